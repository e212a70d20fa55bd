select tenant_id, cfg as network_map_cfg, active, created_at, activated_at
from {{ source('saku', 'network_maps') }}
