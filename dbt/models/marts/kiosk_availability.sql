-- Kiosk offline periods, as their replayed sales show them: per kiosk and day, how many
-- sales were made offline, and the first and last of them.
select
    p.tenant_id, p.school_id, p.kiosk_id,
    (p.sold_at at time zone s.timezone)::date as sales_date,
    count(*) filter (where p.offline) as offline_sales,
    min(p.sold_at) filter (where p.offline) as first_offline_sale,
    max(p.sold_at) filter (where p.offline) as last_offline_sale,
    count(*) as all_sales
from {{ ref('stg_saku__payments') }} p
join {{ ref('stg_saku__schools') }} s using (tenant_id, school_id)
group by 1, 2, 3, 4
