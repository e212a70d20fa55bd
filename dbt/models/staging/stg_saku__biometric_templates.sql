-- which fingers are enrolled, never the ciphertext
select tenant_id, student_id, finger, enrolled_at
from {{ source('saku', 'biometric_templates') }}
