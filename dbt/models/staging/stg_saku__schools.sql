select tenant_id, id as school_id, name as school_name, timezone, balance_cap,
       offline_student_cap, offline_kiosk_cap
from {{ source('saku', 'schools') }}
