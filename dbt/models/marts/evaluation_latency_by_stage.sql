-- Evaluation time per stage (routing, features, rules, scoring) per day and message type.
-- Incremental like alerts_by_typology: the last day is recomputed, earlier days kept.
{{ config(materialized="incremental", incremental_strategy="delete+insert",
          unique_key=["tenant_id", "evaluation_date", "tx_type", "stage"]) }}

with stages as (
    select e.tenant_id, e.evaluated_at::date as evaluation_date, e.tx_type,
           s.key as stage, s.value::numeric as milliseconds
    from {{ ref('stg_saku__evaluations') }} e,
         jsonb_each_text(e.timings_ms) as s
    {% if is_incremental() %}
    where e.evaluated_at::date
        >= (select coalesce(max(evaluation_date), '1970-01-01') from {{ this }})
    {% endif %}
)

select
    tenant_id, evaluation_date, tx_type, stage,
    count(*) as evaluations,
    percentile_cont(0.5) within group (order by milliseconds) as p50_ms,
    percentile_cont(0.95) within group (order by milliseconds) as p95_ms
from stages
group by 1, 2, 3, 4
