select tenant_id, id as merchant_id, school_id, name as merchant_name
from {{ source('saku', 'merchants') }}
