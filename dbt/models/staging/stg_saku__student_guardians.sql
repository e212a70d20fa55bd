select tenant_id, student_id, guardian_id
from {{ source('saku', 'student_guardians') }}
