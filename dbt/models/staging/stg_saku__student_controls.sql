select tenant_id, student_id, daily_limit, weekly_limit, low_balance_threshold,
       updated_at
from {{ source('saku', 'student_controls') }}
