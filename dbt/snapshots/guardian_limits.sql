{% snapshot guardian_limits %}
{{ config(unique_key="tenant_id || ':' || student_id", strategy="timestamp",
          updated_at="updated_at") }}
-- every version of each student's guardian limits, with when it held
select tenant_id, student_id, daily_limit, weekly_limit, low_balance_threshold, updated_at
from {{ source('saku', 'student_controls') }}
{% endsnapshot %}
