select tenant_id, msg_id, evaluation_id, tx_type, status, outcome, opened_at,
       escalated_at, decided_at
from {{ source('saku', 'cases') }}
