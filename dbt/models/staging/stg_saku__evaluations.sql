select
    evaluation_id, tenant_id, msg_id, tx_type, status, interdicted, network_map_cfg,
    evaluated_at, result -> 'timings_ms' as timings_ms,
    result -> 'adjudication' -> 'typologies' as typologies,
    result -> 'rule_results' as rule_results
from {{ source('saku', 'evaluations') }}
