-- Counts only, never biometric data: per school, students by consent status and enrolment.
with latest as (
    select distinct on (tenant_id, student_id, party) tenant_id, student_id, party, decision
    from {{ ref('stg_saku__biometric_consent_events') }}
    order by tenant_id, student_id, party, at desc
),

per_student as (
    select st.tenant_id, st.school_id, st.student_id,
           bool_or(l.party = 'student' and l.decision = 'refuse') as refused,
           bool_or(l.party like 'guardian:%' and l.decision = 'object') as objected,
           bool_or(l.party like 'guardian:%' and l.decision = 'consent') as consented,
           exists (select 1 from {{ ref('stg_saku__biometric_templates') }} t
                   where t.tenant_id = st.tenant_id and t.student_id = st.student_id)
               as enrolled
    from {{ ref('stg_saku__students') }} st
    left join latest l using (tenant_id, student_id)
    group by 1, 2, 3
)

select
    tenant_id, school_id,
    count(*) as students,
    count(*) filter (where consented and not objected and not coalesce(refused, false))
        as consent_valid,
    count(*) filter (where objected) as objected,
    count(*) filter (where refused) as refused,
    count(*) filter (where enrolled) as enrolled
from per_student
group by 1, 2
