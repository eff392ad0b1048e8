-- The outbox per UTC day it fell due (send_after), kind and channel: how many were queued, sent,
-- failed, are still pending or were voided; retries; and the delay from due to sent.
-- Incremental: the groups of messages changed since the last build are recomputed whole; see
-- message_delivery.yml.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['send_day', 'kind', 'channel'],
    on_schema_change='fail'
) }}

with

notifications as (
    select * from {{ ref('stg_app__notifications') }}
),

{% if is_incremental() %}
touched as (
    select distinct {{ money_activity__utc_day('send_after') }} as send_day, kind, channel
    from notifications
    where updated_at > {{ money_activity__changed_after() }}
),

-- Whole days through the index on send_after, then the day's other kinds and channels dropped.
notifications_in_scope as (
    select notifications.*
    from (select distinct send_day from touched) as days
    inner join notifications
        on notifications.send_after >= days.send_day::timestamp at time zone 'UTC'
        and notifications.send_after < (days.send_day + 1)::timestamp at time zone 'UTC'
    inner join touched
        on touched.send_day = days.send_day
        and touched.kind = notifications.kind
        and touched.channel = notifications.channel
),
{% else %}
notifications_in_scope as (
    select * from notifications
),
{% endif %}

delays as (
    select
        *,
        extract(epoch from sent_at - send_after)::double precision as delay_seconds
    from notifications_in_scope
),

final as (
    select
        {{ money_activity__key([money_activity__utc_day('send_after'), 'kind', 'channel']) }} as message_delivery_id,
        kind,
        channel,
        count(*)::integer as queued,
        count(*) filter (where status = 'sent')::integer as sent,
        count(*) filter (where status = 'failed')::integer as failed,
        count(*) filter (where status in ('pending', 'sending'))::integer as pending,
        count(*) filter (where status = 'voided')::integer as voided,
        coalesce(sum(greatest(attempts - 1, 0)), 0)::integer as retries,
        round(
            (percentile_cont(0.5) within group (order by delay_seconds) filter (where status = 'sent'))::numeric, 3
        ) as delay_p50_seconds,
        round(
            (percentile_cont(0.95) within group (order by delay_seconds) filter (where status = 'sent'))::numeric, 3
        ) as delay_p95_seconds,
        max(attempts)::integer as max_attempts,
        {{ money_activity__utc_day('send_after') }} as send_day,
        max(updated_at) as source_changed_at
    from delays
    group by {{ money_activity__utc_day('send_after') }}, kind, channel
)

select * from final
