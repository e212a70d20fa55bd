select id as drill_id, started_at, finished_at, trigger, backup_id, restore_point, rpo_ms,
       rto_s, ok, migrations_equal, ledger_ok, tables_equal, tables_compared,
       erased_students_checked, erased_still_decrypting, failure
from {{ source('saku', 'dr_drills') }}
