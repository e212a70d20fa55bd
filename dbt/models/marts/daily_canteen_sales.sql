-- What each canteen sold each school day, per kiosk: approved purchases, less refunds and
-- voids, in the school's own time zone.
with sales as (
    select p.*, (p.sold_at at time zone s.timezone)::date as sales_date
    from {{ ref('stg_saku__payments') }} p
    join {{ ref('stg_saku__schools') }} s using (tenant_id, school_id)
    where p.was_approved
)

select
    tenant_id, school_id, merchant_id, kiosk_id, sales_date,
    count(*) as purchases,
    sum(amount) as gross_sales,
    coalesce(sum(amount) filter (where was_reversed), 0) as reversed,
    sum(amount) - coalesce(sum(amount) filter (where was_reversed), 0) as net_sales,
    count(*) filter (where offline) as offline_purchases
from sales
group by 1, 2, 3, 4, 5
