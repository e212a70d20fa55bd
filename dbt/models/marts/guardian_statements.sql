-- What each guardian sees for each child per month: top-ups credited, purchases, refunds.
with movements as (
    select tenant_id, student_id, date_trunc('month', decided_at)::date as month,
           amount as topped_up, 0 as spent, 0 as refunded
    from {{ ref('stg_saku__topups') }} where status = 'credited'
    union all
    select tenant_id, student_id, date_trunc('month', sold_at)::date,
           0, amount, case when was_reversed then amount else 0 end
    from {{ ref('stg_saku__payments') }} where was_approved
)

select
    g.tenant_id, g.guardian_id, m.student_id, m.month,
    sum(m.topped_up) as topped_up, sum(m.spent) as spent, sum(m.refunded) as refunded
from movements m
join {{ ref('stg_saku__student_guardians') }} g using (tenant_id, student_id)
group by 1, 2, 3, 4
