-- Alerts per day and typology (a typology alerts when its score reaches its threshold).
with typologies as (
    select e.tenant_id, e.evaluated_at::date as alert_date, e.tx_type, t
    from {{ ref('stg_saku__evaluations') }} e,
         jsonb_array_elements(e.typologies) as t
)

select
    tenant_id, alert_date, tx_type, t ->> 'id' as typology,
    count(*) filter (where (t ->> 'review')::boolean) as alerts,
    count(*) filter (where (t ->> 'interdiction')::boolean) as interdictions,
    count(*) as evaluations
from typologies
group by 1, 2, 3, 4
