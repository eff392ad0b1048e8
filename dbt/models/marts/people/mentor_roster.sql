-- One row per mentor and student who ever had a pack with that mentor: the admins' roster and
-- their CSV of all instructor-mentee relationships (plain columns only).
-- Incremental: whole pairs of a mentor and a student whose packs, sessions, seat or names changed
-- since the last build; then every row's days_since_last_session brought to the build's clock
-- (the post-hook: time alone changes it); see mentor_roster.yml.
{% set days_since_last_session -%}
    floor(extract(epoch from ({{ report_now() }} - last_session_at)) / 86400)::integer
{%- endset %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['mentor_id', 'student_id'],
    on_schema_change='fail',
    indexes=[{'columns': ['mentor_id', 'student_id'], 'unique': true}, {'columns': ['source_changed_at']}],
    post_hook=[
        "update {{ this }} set days_since_last_session = " ~ days_since_last_session
        ~ " where days_since_last_session is distinct from " ~ days_since_last_session
    ]
) }}

with

-- not materialized: read twice in an incremental build, each time through an index
packs as not materialized (
    select * from {{ ref('stg_app__session_packs') }}
),

pack_sessions as not materialized (
    select * from {{ ref('int_people__pack_sessions') }}
),

seats as not materialized (
    select * from {{ ref('stg_app__seat_reservations') }}
),

profiles as not materialized (
    select * from {{ ref('stg_app__profiles') }}
),

mentors as not materialized (
    select * from {{ ref('stg_app__mentors') }}
),

{% if is_incremental() %}
{% set changed_after = money_activity__changed_after() %}
-- The pairs whose packs, sessions or seat changed, and every pair of a person or a mentor's page
-- renamed (names and emails are columns here).
pairs as (
    select mentor_id, student_id from packs where updated_at > {{ changed_after }}
    union
    select mentor_id, student_id from pack_sessions where sessions_updated_at > {{ changed_after }}
    union
    select mentor_id, student_id from seats where updated_at > {{ changed_after }}
    union
    select existing.mentor_id, existing.student_id
    from {{ this }} as existing
    where existing.mentor_id in (
            select mentor_id from mentors where updated_at > {{ changed_after }}
            union
            select profile_id from profiles where updated_at > {{ changed_after }}
        )
        or existing.student_id in (select profile_id from profiles where updated_at > {{ changed_after }})
),

-- every pack of those pairs (dbt/macros/people_scope.sql)
packs_in_scope as (
    {{ people__packs_of_pairs() }}
),
{% else %}
packs_in_scope as (
    select * from packs
),
{% endif %}

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
        greatest(packs.updated_at, pack_sessions.sessions_updated_at) as changed_at,
        row_number() over (
            partition by packs.mentor_id, packs.student_id
            order by packs.purchased_at desc, packs.pack_id desc
        ) as recency
    from packs_in_scope as packs
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
        min(purchased_at) as first_purchased_at,
        max(changed_at) as changed_at
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
    select mentor_id, student_id, status, updated_at
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
        {{ days_since_last_session | replace('last_session_at', 'relationships.last_session_at') }}
            as days_since_last_session,
        current_packs.expires_at as current_pack_expires_at,
        relationships.last_session_at,
        relationships.first_purchased_at,
        greatest(
            relationships.changed_at,
            live_seats.updated_at,
            mentors.updated_at,
            mentor_profiles.updated_at,
            student_profiles.updated_at
        ) as source_changed_at
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
