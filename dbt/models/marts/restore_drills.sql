-- Restore drills per day: how many ran and passed, the worst and the last RPO and RTO
-- (the targets: RPO 0 for acknowledged payments, RTO at most 60 s).
select
    finished_at::date as drill_date,
    count(*) as drills,
    count(*) filter (where ok) as passed,
    max(rpo_ms) as worst_rpo_ms,
    max(rto_s) as worst_rto_s,
    (array_agg(rpo_ms order by finished_at desc))[1] as last_rpo_ms,
    (array_agg(rto_s order by finished_at desc))[1] as last_rto_s,
    bool_and(ok) as all_ok
from {{ ref('stg_saku__dr_drills') }}
group by 1
