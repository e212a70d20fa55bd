select tenant_id, id as kiosk_id, school_id, merchant_id, name as kiosk_name, active,
       last_seen_at
from {{ source('saku', 'kiosks') }}
