-- pseudonymous: the id and the school only; display names stay out of reporting
select tenant_id, id as student_id, school_id, grade, status
from {{ source('saku', 'students') }}
