-- What became of the alerts: cases per day opened, by message type and outcome, and how
-- long deciding took.
select
    tenant_id, opened_at::date as opened_date, tx_type,
    coalesce(outcome, status) as outcome,
    count(*) as cases,
    count(*) filter (where escalated_at is not null) as escalated,
    percentile_cont(0.5) within group (
        order by extract(epoch from decided_at - opened_at) / 3600
    ) filter (where decided_at is not null) as median_hours_to_decision
from {{ ref('stg_saku__cases') }}
group by 1, 2, 3, 4
