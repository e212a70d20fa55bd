-- How often each rule lands on each outcome (band, exit or .err), per message type.
with results as (
    select e.tenant_id, e.tx_type, r
    from {{ ref('stg_saku__evaluations') }} e,
         jsonb_array_elements(e.rule_results) as r
)

select
    tenant_id, tx_type, r ->> 'id' as rule_id, r ->> 'sub_rule_ref' as outcome,
    count(*) as results,
    round(count(*)::numeric
          / sum(count(*)) over (partition by tenant_id, tx_type, r ->> 'id'), 4) as share
from results
group by 1, 2, 3, 4
