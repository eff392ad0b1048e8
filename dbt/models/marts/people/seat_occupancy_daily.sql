{#
  Per mentor and UTC day, from the mentor's first seat to report_now()'s day: the seats in each
  state at the day's end (23:59:59.999999 UTC; for today, report_now()).
  seat_reservations keeps only a seat's latest state, so the history is derived:
  - active: while one of the seat's packs is active, [purchased_at, depleted/expired/refunded_at);
    overlapping packs of a seat make one span;
  - grace: after a span that did not end in a refund, for the grace_period_hours of its latest
    pack, cut short by the next span or the seat's release;
  - held: a seat that began as a checkout hold, from its creation until its first pack was paid,
    the hold expired or the seat was released.
  Incremental: every mentor's rows from the last built day on (that day was counted at the
  clock of the last build), from the packs and holds that can still count then; earlier days
  are kept as they were counted. Every change the rules
  make is stamped with the clock of the change, so it lands on those days; only a backdated
  write (a pack granted with a past purchased_at, a used-up pack made active again) differs
  from a full refresh, which derives every day from the current rows.
#}
{{ config(
    materialized='incremental',
    unique_key=['mentor_id', 'day'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['mentor_id', 'day'], 'unique': true}, {'columns': ['day']}]
) }}

with mentors as (
    select * from {{ ref('stg_app__mentors') }}
),

-- not materialized: each reading filters its own rows (a materialized CTE wrote every pack, all
-- columns, before the filter: 0.35 s of an incremental build at 1M sessions)
packs as not materialized (
    select * from {{ ref('stg_app__session_packs') }}
),

seats as not materialized (
    select * from {{ ref('stg_app__seat_reservations') }}
),

{% if is_incremental() %}
last_build as (
    select coalesce(max(day), '-infinity'::date) as day from {{ this }}
),

-- what an incremental build reads: packs and holds that can still count on the last built day
-- or later (a grace period lasts at most 720 hours: 30 days)
cutoff as (
    select (day - 31)::timestamp at time zone 'UTC' as at from last_build
),
{% endif %}

report as (
    select
        {{ report_now() }} as now_at,
        ({{ report_now() }} at time zone 'UTC')::date as today
),

pack_spans as (
    select
        mentor_id,
        seat_reservation_id,
        pack_id,
        grace_period_hours,
        purchased_at,
        least(depleted_at, expired_at, refunded_at) as ended_at,
        coalesce(refunded_at = least(depleted_at, expired_at, refunded_at), false) as ended_by_refund
    from packs
    {% if is_incremental() %}
    where least(depleted_at, expired_at, refunded_at) is null
        or least(depleted_at, expired_at, refunded_at) >= (select at from cutoff)
    {% endif %}
),

covered as (
    select
        *,
        max(coalesce(ended_at, 'infinity'::timestamptz)) over (
            partition by mentor_id, seat_reservation_id
            order by purchased_at, pack_id
            rows between unbounded preceding and 1 preceding
        ) as covered_until
    from pack_spans
),

numbered as (
    select
        *,
        sum(case when covered_until is null or purchased_at > covered_until then 1 else 0 end) over (
            partition by mentor_id, seat_reservation_id
            order by purchased_at, pack_id
            rows unbounded preceding
        ) as span_number
    from covered
),

active_spans as (
    select
        mentor_id,
        seat_reservation_id,
        span_number,
        min(purchased_at) as active_from,
        case when bool_or(ended_at is null) then null else max(ended_at) end as active_until,
        (array_agg(ended_by_refund order by ended_at desc nulls first, pack_id))[1] as ended_by_refund,
        (array_agg(grace_period_hours order by purchased_at desc, pack_id desc))[1] as grace_period_hours
    from numbered
    group by mentor_id, seat_reservation_id, span_number
),

spans_in_order as (
    select
        active_spans.*,
        lead(active_spans.active_from) over (
            partition by active_spans.seat_reservation_id order by active_spans.span_number
        ) as next_active_from,
        seats.released_at
    from active_spans
    inner join seats on seats.seat_reservation_id = active_spans.seat_reservation_id
),

first_purchases as (
    select seat_reservation_id, min(purchased_at) as purchased_at
    from packs
    {% if is_incremental() %}
    where seat_reservation_id in (
        select seat_reservation_id from seats where hold_expires_at >= (select at from cutoff)
    )
    {% endif %}
    group by seat_reservation_id
),

intervals as (
    select mentor_id, 'active' as state, active_from as from_at, active_until as until_at
    from spans_in_order
    union all
    select
        mentor_id,
        'grace' as state,
        active_until as from_at,
        least(
            active_until + make_interval(hours => grace_period_hours),
            next_active_from,
            case when released_at >= active_until then released_at end
        ) as until_at
    from spans_in_order
    where active_until is not null and not ended_by_refund
    union all
    select
        seats.mentor_id,
        'held' as state,
        seats.created_at as from_at,
        least(first_purchases.purchased_at, seats.hold_expires_at, seats.released_at) as until_at
    from seats
    left join first_purchases on first_purchases.seat_reservation_id = seats.seat_reservation_id
    where seats.hold_expires_at is not null
    {% if is_incremental() %}
        and seats.hold_expires_at >= (select at from cutoff)
    {% endif %}
),

-- the UTC days whose end (or report_now(), today) falls inside [from_at, until_at)
clipped as (
    select
        intervals.mentor_id,
        intervals.state,
        (intervals.from_at at time zone 'UTC')::date as first_day,
        case
            when intervals.until_at is null or intervals.until_at > report.now_at then report.today
            else ((intervals.until_at at time zone 'UTC') - interval '1 day')::date
        end as last_day
    from intervals
    cross join report
    where intervals.from_at <= report.now_at
        and (intervals.until_at is null or intervals.until_at > intervals.from_at)
),

changes as (
    select mentor_id, first_day as day, state, 1 as delta
    from clipped
    where last_day >= first_day
    union all
    select clipped.mentor_id, clipped.last_day + 1 as day, clipped.state, -1 as delta
    from clipped
    cross join report
    where clipped.last_day >= clipped.first_day and clipped.last_day < report.today
),

daily_changes as (
    select
        mentor_id,
        day,
        coalesce(sum(delta) filter (where state = 'held'), 0) as held_change,
        coalesce(sum(delta) filter (where state = 'active'), 0) as active_change,
        coalesce(sum(delta) filter (where state = 'grace'), 0) as grace_change
    from changes
    group by mentor_id, day
),

-- the days this build writes: from the mentor's first seat (full) or from the last built day
bounds as (
    select
        mentor_id,
        {% if is_incremental() %}
        greatest(min(first_day), (select day from last_build)) as from_day
        {% else %}
        min(first_day) as from_day
        {% endif %}
    from clipped
    group by mentor_id
    {% if is_incremental() %}
    union
    -- mentors with nothing live now still get their new days
    select mentor_id, (select day from last_build) as from_day
    from {{ this }}
    where day = (select day from last_build)
        and mentor_id not in (select mentor_id from clipped)
    {% endif %}
),

-- the seats counted before from_day (nothing on a full build)
carried as (
    select
        daily_changes.mentor_id,
        sum(daily_changes.held_change) as held,
        sum(daily_changes.active_change) as active,
        sum(daily_changes.grace_change) as in_grace
    from daily_changes
    inner join bounds on bounds.mentor_id = daily_changes.mentor_id
    where daily_changes.day < bounds.from_day
    group by daily_changes.mentor_id
),

spine as (
    select bounds.mentor_id, days.day::date as day
    from bounds
    cross join report
    cross join lateral generate_series(bounds.from_day, report.today, interval '1 day') as days (day)
),

counted as (
    select
        spine.mentor_id,
        spine.day,
        (coalesce(carried.held, 0) + sum(coalesce(daily_changes.held_change, 0)) over running)::integer as held,
        (coalesce(carried.active, 0) + sum(coalesce(daily_changes.active_change, 0)) over running)::integer
            as active,
        (coalesce(carried.in_grace, 0) + sum(coalesce(daily_changes.grace_change, 0)) over running)::integer
            as in_grace
    from spine
    left join daily_changes on daily_changes.mentor_id = spine.mentor_id and daily_changes.day = spine.day
    left join carried on carried.mentor_id = spine.mentor_id
    window running as (partition by spine.mentor_id order by spine.day)
),

final as (
    select
        counted.mentor_id,
        counted.day,
        mentors.seat_capacity as capacity,
        counted.held,
        counted.active,
        counted.in_grace,
        greatest(mentors.seat_capacity - counted.held - counted.active - counted.in_grace, 0) as free,
        round((counted.held + counted.active + counted.in_grace)::numeric / nullif(mentors.seat_capacity, 0), 4)
            as occupancy
    from counted
    inner join mentors on mentors.mentor_id = counted.mentor_id
)

select * from final
