-- Sessions per mentor and ISO week (Monday 00:00 UTC, by starts_at), by how they ended.
-- Incremental: the weeks touched since the last build are recomputed whole; see session_outcomes.yml.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['mentor_id', 'week_start'],
    on_schema_change='fail',
    post_hook=["delete from {{ this }} where booked = 0"]
) }}

with

-- not materialized: read three times in an incremental build, each time through an index
sessions as not materialized (
    select * from {{ ref('stg_app__sessions') }}
),

{% if is_incremental() %}
{% set changed_after = money_activity__changed_after() %}
changed as (
    select mentor_id, starts_at
    from sessions
    where updated_at > {{ changed_after }}
),

-- The weeks of the changed sessions; and, for their mentors, every week from the watermark's on:
-- a reschedule moves a session that starts after the change, so the week it left is among them.
-- Weeks already in the mart are included so one left with no sessions is replaced (by a row of
-- zeros, which the post-hook deletes).
scope as (
    select mentor_id, {{ money_activity__utc_week('starts_at') }} as week_start
    from changed
    union
    select sessions.mentor_id, {{ money_activity__utc_week('sessions.starts_at') }}
    from sessions
    where sessions.mentor_id in (select mentor_id from changed)
        and sessions.starts_at
            >= {{ money_activity__utc_week(changed_after) }}::timestamp at time zone 'UTC'
    union
    select existing.mentor_id, existing.week_start
    from {{ this }} as existing
    where existing.mentor_id in (select mentor_id from changed)
        and existing.week_start >= {{ money_activity__utc_week(changed_after) }}
),

-- One range scan of the index on (mentor_id, starts_at) per week in scope.
sessions_in_scope as (
    select week_sessions.*
    from scope
    cross join lateral (
        select * from sessions
        where sessions.mentor_id = scope.mentor_id
            and sessions.starts_at >= scope.week_start::timestamp at time zone 'UTC'
            and sessions.starts_at < (scope.week_start + 7)::timestamp at time zone 'UTC'
    ) as week_sessions
),
{% else %}
sessions_in_scope as (
    select * from sessions
),
{% endif %}

weekly as (
    select
        mentor_id,
        {{ money_activity__utc_week('starts_at') }} as week_start,
        count(*)::integer as booked,
        count(*) filter (where status = 'scheduled')::integer as scheduled,
        count(*) filter (where status = 'completed')::integer as completed,
        count(*) filter (where status = 'canceled')::integer as canceled_early,
        count(*) filter (where status = 'late_canceled')::integer as canceled_late,
        count(*) filter (
            where status in ('canceled', 'late_canceled') and canceled_by = mentor_id
        )::integer as canceled_by_mentor,
        count(*) filter (where status = 'student_no_show')::integer as student_no_shows,
        count(*) filter (where status = 'mentor_no_show')::integer as mentor_no_shows,
        max(updated_at) as source_changed_at
    from sessions_in_scope
    group by 1, 2
),

groups as (
    {% if is_incremental() %}
    select
        scope.mentor_id,
        scope.week_start,
        coalesce(weekly.booked, 0) as booked,
        coalesce(weekly.scheduled, 0) as scheduled,
        coalesce(weekly.completed, 0) as completed,
        coalesce(weekly.canceled_early, 0) as canceled_early,
        coalesce(weekly.canceled_late, 0) as canceled_late,
        coalesce(weekly.canceled_by_mentor, 0) as canceled_by_mentor,
        coalesce(weekly.student_no_shows, 0) as student_no_shows,
        coalesce(weekly.mentor_no_shows, 0) as mentor_no_shows,
        coalesce(weekly.source_changed_at, {{ changed_after }}) as source_changed_at
    from scope
    left join weekly on weekly.mentor_id = scope.mentor_id and weekly.week_start = scope.week_start
    {% else %}
    select * from weekly
    {% endif %}
),

final as (
    select
        {{ money_activity__key(['mentor_id', 'week_start']) }} as session_outcomes_id,
        mentor_id,
        booked,
        scheduled,
        completed,
        canceled_early,
        canceled_late,
        canceled_by_mentor,
        student_no_shows,
        mentor_no_shows,
        {{ money_activity__rate('completed', 'completed + student_no_shows + mentor_no_shows') }} as completion_rate,
        week_start,
        source_changed_at
    from groups
)

select * from final
