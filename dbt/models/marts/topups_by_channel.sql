-- Top-ups per day and channel (API or the bank's Kafka stream), credited and declined.
select
    tenant_id, created_at::date as topup_date, channel, status,
    count(*) as topups,
    sum(amount) as amount
from {{ ref('stg_saku__topups') }}
group by 1, 2, 3, 4
