{% snapshot monitoring_config_versions %}
{{ config(unique_key="tenant_id || ':' || cfg", strategy="check",
          check_cols=["active", "activated_at"]) }}
-- which network map (monitoring configuration version) was active, and from when to when
select tenant_id, cfg, active, created_at, activated_at
from {{ source('saku', 'network_maps') }}
{% endsnapshot %}
