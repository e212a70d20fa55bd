-- Alerts per day and typology (a typology alerts when its score reaches its threshold).
-- Incremental: evaluations only grow (and leave the hot table with retention), so each run
-- recomputes from the last day it has onwards and keeps the days before.
{{ config(materialized="incremental", incremental_strategy="delete+insert",
          unique_key=["tenant_id", "alert_date", "tx_type", "typology"]) }}

with typologies as (
    select e.tenant_id, e.evaluated_at::date as alert_date, e.tx_type, t
    from {{ ref('stg_saku__evaluations') }} e,
         jsonb_array_elements(e.typologies) as t
    {% if is_incremental() %}
    where e.evaluated_at::date >= (select coalesce(max(alert_date), '1970-01-01') from {{ this }})
    {% endif %}
)

select
    tenant_id, alert_date, tx_type, t ->> 'id' as typology,
    count(*) filter (where (t ->> 'review')::boolean) as alerts,
    count(*) filter (where (t ->> 'interdiction')::boolean) as interdictions,
    count(*) as evaluations
from typologies
group by 1, 2, 3, 4
