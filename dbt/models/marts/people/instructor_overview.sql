-- One row per mentor: mentees, sessions, seats and the rates admins watch. Every rate is null
-- when its denominator is zero.
with mentors as (
    select * from {{ ref('stg_app__mentors') }}
),

profiles as (
    select * from {{ ref('stg_app__profiles') }}
),

packs as (
    select * from {{ ref('stg_app__session_packs') }}
),

pack_sessions as (
    select * from {{ ref('int_people__pack_sessions') }}
),

seats as (
    select * from {{ ref('stg_app__seat_reservations') }}
),

sessions as (
    select * from {{ ref('stg_app__sessions') }}
),

renewals as (
    select * from {{ ref('renewals') }}
),

month_start as (
    select date_trunc('month', {{ report_now() }}, 'UTC') as starts_at
),

this_month as (
    -- a session starts before it is completed, so completed_at >= the month's start too (indexed)
    select sessions.mentor_id, count(*)::integer as sessions_completed
    from sessions
    cross join month_start
    where sessions.status = 'completed'
        and sessions.completed_at >= month_start.starts_at
        and sessions.starts_at >= month_start.starts_at
        and sessions.starts_at < month_start.starts_at + interval '1 month'
    group by sessions.mentor_id
),

outcomes as (
    select
        mentor_id,
        sum(sessions_completed)::integer as sessions_completed,
        sum(sessions_student_no_show)::integer as student_no_shows,
        sum(sessions_mentor_no_show)::integer as mentor_no_shows,
        sum(sessions_canceled_by_student)::integer as canceled_by_student,
        sum(sessions_late_canceled)::integer as late_canceled
    from pack_sessions
    group by mentor_id
),

seat_counts as (
    -- what takes a seat, as private.seats_taken has it: active, grace, and holds not expired
    select
        mentor_id,
        (count(*) filter (where status = 'hold' and hold_expires_at > {{ report_now() }}))::integer as seats_held,
        (count(*) filter (where status = 'active'))::integer as seats_active,
        (count(*) filter (where status = 'grace'))::integer as seats_in_grace
    from seats
    where status <> 'released'
    group by mentor_id
),

mentees as (
    select mentor_id, count(distinct student_id)::integer as active_mentees
    from (
        select mentor_id, student_id from packs where status = 'active'
        union all
        select mentor_id, student_id from seats where status in ('active', 'grace')
    ) as live
    group by mentor_id
),

renewal_counts as (
    select
        mentor_id,
        (count(*) filter (where renewed_within_grace))::integer as renewed,
        (count(*) filter (where renewed_within_grace is not null))::integer as decided
    from renewals
    group by mentor_id
),

joined as (
    select
        mentors.mentor_id,
        mentors.public_name as mentor_name,
        profiles.email as mentor_email,
        coalesce(mentees.active_mentees, 0) as active_mentees,
        coalesce(this_month.sessions_completed, 0) as sessions_completed_this_month,
        coalesce(outcomes.sessions_completed, 0) as sessions_completed_all_time,
        coalesce(outcomes.student_no_shows, 0) as student_no_shows,
        coalesce(outcomes.mentor_no_shows, 0) as mentor_no_shows,
        coalesce(outcomes.canceled_by_student, 0) as canceled_by_student,
        coalesce(outcomes.late_canceled, 0) as late_canceled,
        mentors.seat_capacity,
        coalesce(seat_counts.seats_held, 0) as seats_held,
        coalesce(seat_counts.seats_active, 0) as seats_active,
        coalesce(seat_counts.seats_in_grace, 0) as seats_in_grace,
        coalesce(renewal_counts.renewed, 0) as renewed,
        coalesce(renewal_counts.decided, 0) as decided,
        mentors.created_at as joined_at
    from mentors
    left join profiles on profiles.profile_id = mentors.mentor_id
    left join mentees on mentees.mentor_id = mentors.mentor_id
    left join this_month on this_month.mentor_id = mentors.mentor_id
    left join outcomes on outcomes.mentor_id = mentors.mentor_id
    left join seat_counts on seat_counts.mentor_id = mentors.mentor_id
    left join renewal_counts on renewal_counts.mentor_id = mentors.mentor_id
),

final as (
    select
        mentor_id,
        mentor_name,
        mentor_email,
        active_mentees,
        sessions_completed_this_month,
        sessions_completed_all_time,
        seat_capacity,
        seats_held,
        seats_active,
        seats_in_grace,
        greatest(seat_capacity - seats_held - seats_active - seats_in_grace, 0) as free_seats,
        round((seats_held + seats_active + seats_in_grace)::numeric / nullif(seat_capacity, 0), 4)
            as seat_occupancy,
        round(
            student_no_shows::numeric
            / nullif(sessions_completed_all_time + student_no_shows + mentor_no_shows, 0), 4
        ) as no_show_rate,
        round(
            mentor_no_shows::numeric
            / nullif(sessions_completed_all_time + student_no_shows + mentor_no_shows, 0), 4
        ) as mentor_no_show_rate,
        round(late_canceled::numeric / nullif(canceled_by_student + late_canceled, 0), 4) as late_cancel_rate,
        round(renewed::numeric / nullif(decided, 0), 4) as renewal_rate,
        joined_at
    from joined
)

select * from final
