select tenant_id, student_id, party, decision, at
from {{ source('saku', 'biometric_consent_events') }}
