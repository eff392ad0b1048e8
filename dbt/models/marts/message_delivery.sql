-- The outbox per UTC day it fell due (send_after), kind and channel: how many were queued, sent,
-- failed, are still pending or were voided; retries; and the delay from due to sent.
-- One pass over the messages counts them by group, status, attempts and delay (to the millisecond);
-- everything else, the percentiles too, is computed from those few rows (a sort of every message
-- for percentile_cont cost 4x the whole pass at a million messages).
-- Incremental: the groups of messages changed since the last build are recomputed whole; see
-- message_delivery.yml.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['send_day', 'kind', 'channel'],
    on_schema_change='fail'
) }}

with

-- not materialized: read twice in an incremental build, and each reading goes through its own index
notifications as not materialized (
    select * from {{ ref('stg_app__notifications') }}
),

{% if is_incremental() %}
touched as (
    select distinct {{ money_activity__utc_day('send_after') }} as send_day, kind, channel
    from notifications
    where updated_at > {{ money_activity__changed_after() }}
),

-- Whole days through the index on the UTC day of send_after (the days as one array, so the plan
-- reads each through the index whatever it guesses of their number), the days' other kinds and
-- channels dropped.
notifications_in_scope as (
    select notifications.*
    from notifications
    where {{ money_activity__utc_day('notifications.send_after') }}
            = any(array(select distinct send_day from touched))
        and exists (
            select from touched
            where touched.send_day = {{ money_activity__utc_day('notifications.send_after') }}
                and touched.kind = notifications.kind
                and touched.channel = notifications.channel
        )
),
{% else %}
notifications_in_scope as (
    select * from notifications
),
{% endif %}

base as (
    select
        {{ money_activity__utc_day('send_after') }} as send_day,
        kind,
        channel,
        status,
        attempts,
        case
            when status = 'sent' then (date_part('epoch', sent_at - send_after) * 1000)::bigint
        end as delay_ms,
        count(*)::bigint as messages,
        max(updated_at) as source_changed_at
    from notifications_in_scope
    group by 1, 2, 3, 4, 5, 6
),

groups as (
    select
        send_day,
        kind,
        channel,
        sum(messages)::integer as queued,
        coalesce(sum(messages) filter (where status = 'sent'), 0)::integer as sent,
        coalesce(sum(messages) filter (where status = 'failed'), 0)::integer as failed,
        coalesce(sum(messages) filter (where status in ('pending', 'sending')), 0)::integer as pending,
        coalesce(sum(messages) filter (where status = 'voided'), 0)::integer as voided,
        sum(greatest(attempts - 1, 0) * messages)::integer as retries,
        max(attempts)::integer as max_attempts,
        max(source_changed_at) as source_changed_at
    from base
    group by 1, 2, 3
),

-- Sent messages per delay, in delay order: the 0-based ranks first_rank .. first_rank + n - 1.
delays as (
    select
        send_day,
        kind,
        channel,
        delay_ms,
        n,
        sum(n) over (partition by send_day, kind, channel order by delay_ms) - n as first_rank,
        sum(n) over (partition by send_day, kind, channel) as total
    from (
        select send_day, kind, channel, delay_ms, sum(messages) as n
        from base
        where status = 'sent'
        group by 1, 2, 3, 4
    ) as per_delay
),

-- percentile_cont: the value at rank h = fraction * (total - 1), interpolated between the ranks
-- floor(h) and ceil(h).
wanted as (
    select distinct
        delays.send_day,
        delays.kind,
        delays.channel,
        fractions.fraction,
        fractions.fraction * (delays.total - 1) as h
    from delays
    cross join (values (0.5), (0.95)) as fractions (fraction)
),

percentiles as (
    select
        wanted.send_day,
        wanted.kind,
        wanted.channel,
        wanted.fraction,
        lo.delay_ms + (wanted.h - floor(wanted.h)) * (hi.delay_ms - lo.delay_ms) as delay_ms
    from wanted
    inner join delays as lo
        on lo.send_day = wanted.send_day and lo.kind = wanted.kind and lo.channel = wanted.channel
        and floor(wanted.h) >= lo.first_rank and floor(wanted.h) < lo.first_rank + lo.n
    inner join delays as hi
        on hi.send_day = wanted.send_day and hi.kind = wanted.kind and hi.channel = wanted.channel
        and ceil(wanted.h) >= hi.first_rank and ceil(wanted.h) < hi.first_rank + hi.n
),

final as (
    select
        {{ money_activity__key(['groups.send_day', 'groups.kind', 'groups.channel']) }} as message_delivery_id,
        groups.kind,
        groups.channel,
        groups.queued,
        groups.sent,
        groups.failed,
        groups.pending,
        groups.voided,
        groups.retries,
        round(p50.delay_ms / 1000, 3) as delay_p50_seconds,
        round(p95.delay_ms / 1000, 3) as delay_p95_seconds,
        groups.max_attempts,
        groups.send_day,
        groups.source_changed_at
    from groups
    left join percentiles as p50
        on p50.send_day = groups.send_day and p50.kind = groups.kind and p50.channel = groups.channel
        and p50.fraction = 0.5
    left join percentiles as p95
        on p95.send_day = groups.send_day and p95.kind = groups.kind and p95.channel = groups.channel
        and p95.fraction = 0.95
)

select * from final
