-- Each student's canteen spending per day against the guardian's daily limit
-- (pseudonymous ids only).
with spending as (
    select tenant_id, student_id, (sold_at at time zone s.timezone)::date as spending_date,
           sum(amount) filter (where status = 'approved') as spent,
           count(*) filter (where reason_code in ('daily_limit', 'weekly_limit'))
               as declined_by_limit
    from {{ ref('stg_saku__payments') }} p
    join {{ ref('stg_saku__schools') }} s using (tenant_id, school_id)
    group by 1, 2, 3
)

select
    sp.tenant_id, sp.student_id, sp.spending_date,
    coalesce(sp.spent, 0) as spent,
    c.daily_limit,
    case when c.daily_limit > 0 then round(100 * coalesce(sp.spent, 0) / c.daily_limit, 1)
    end as percent_of_daily_limit,
    sp.declined_by_limit
from spending sp
left join {{ ref('stg_saku__student_controls') }} c using (tenant_id, student_id)
