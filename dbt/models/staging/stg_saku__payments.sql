select
    tenant_id, kiosk_id, kiosk_tx_id, student_id, school_id, merchant_id,
    amount, category_id, auth_method, status, reason_code, offline, debt,
    status in ('approved', 'refunded', 'voided') as was_approved,
    status in ('refunded', 'voided') as was_reversed,
    evaluation_id, created_at as sold_at, decided_at
from {{ source('saku', 'payments') }}
