select tenant_id, id as topup_id, student_id, amount, channel, status, reason_code,
       evaluation_id, created_at, decided_at
from {{ source('saku', 'topups') }}
