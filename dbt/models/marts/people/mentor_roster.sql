-- One row per mentor and student who ever had a pack with that mentor: the admins' roster and
-- their CSV of all instructor-mentee relationships (plain columns only).
with packs as (
    select * from {{ ref('stg_app__session_packs') }}
),

pack_sessions as (
    select * from {{ ref('int_people__pack_sessions') }}
),

seats as (
    select * from {{ ref('stg_app__seat_reservations') }}
),

profiles as (
    select * from {{ ref('stg_app__profiles') }}
),

mentors as (
    select * from {{ ref('stg_app__mentors') }}
),

pack_rows as (
    select
        packs.pack_id,
        packs.mentor_id,
        packs.student_id,
        packs.status,
        packs.sessions_total,
        packs.remaining_sessions,
        coalesce(pack_sessions.sessions_completed, 0) as sessions_completed,
        packs.expires_at,
        packs.purchased_at,
        pack_sessions.last_session_at,
        row_number() over (
            partition by packs.mentor_id, packs.student_id
            order by packs.purchased_at desc, packs.pack_id desc
        ) as recency
    from packs
    left join pack_sessions on pack_sessions.pack_id = packs.pack_id
),

relationships as (
    select
        mentor_id,
        student_id,
        sum(sessions_completed)::integer as sessions_completed,
        sum(sessions_total)::integer as sessions_total,
        coalesce(sum(remaining_sessions) filter (where status = 'active'), 0)::integer as sessions_remaining,
        max(last_session_at) as last_session_at,
        min(purchased_at) as first_purchased_at
    from pack_rows
    group by mentor_id, student_id
),

current_packs as (
    select mentor_id, student_id, pack_id, status, expires_at
    from pack_rows
    where recency = 1
),

live_seats as (
    -- at most one per mentor and student (seat_reservations_one_live_seat_key)
    select mentor_id, student_id, status
    from seats
    where status <> 'released'
),

final as (
    select
        relationships.mentor_id,
        relationships.student_id,
        current_packs.pack_id as current_pack_id,
        mentors.public_name as mentor_name,
        mentor_profiles.email as mentor_email,
        student_profiles.display_name as student_name,
        student_profiles.email as student_email,
        current_packs.status as current_pack_status,
        coalesce(live_seats.status, 'released') as seat_status,
        relationships.sessions_completed,
        relationships.sessions_total,
        relationships.sessions_remaining,
        floor(
            extract(epoch from ({{ report_now() }} - relationships.last_session_at)) / 86400
        )::integer as days_since_last_session,
        current_packs.expires_at as current_pack_expires_at,
        relationships.last_session_at,
        relationships.first_purchased_at
    from relationships
    inner join current_packs
        on current_packs.mentor_id = relationships.mentor_id
        and current_packs.student_id = relationships.student_id
    inner join mentors on mentors.mentor_id = relationships.mentor_id
    left join profiles as mentor_profiles on mentor_profiles.profile_id = relationships.mentor_id
    left join profiles as student_profiles on student_profiles.profile_id = relationships.student_id
    left join live_seats
        on live_seats.mentor_id = relationships.mentor_id
        and live_seats.student_id = relationships.student_id
)

select * from final
