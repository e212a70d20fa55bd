-- An evaluation stores each rule result compactly, as
-- [id, cfg, sub_rule_ref, indpdnt_varbl, prcg_tm_ms (, reason for .err)];
-- here each becomes an object again (results stored earlier are objects already).
with evaluations as (
    select * from {{ source('saku', 'evaluations') }}
)

select
    evaluation_id, tenant_id, msg_id, tx_type, status, interdicted, network_map_cfg,
    evaluated_at, result -> 'timings_ms' as timings_ms,
    result -> 'adjudication' -> 'typologies' as typologies,
    (
        select jsonb_agg(
            case jsonb_typeof(r.value)
                when 'array' then jsonb_build_object(
                    'id', r.value -> 0, 'cfg', r.value -> 1, 'sub_rule_ref', r.value -> 2,
                    'indpdnt_varbl', r.value -> 3, 'prcg_tm_ms', r.value -> 4
                )
                else r.value
            end
            order by r.position
        )
        from jsonb_array_elements(result -> 'rule_results') with ordinality as r(value, position)
    ) as rule_results
from evaluations
