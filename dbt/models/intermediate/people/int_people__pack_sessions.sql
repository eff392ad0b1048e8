{#
  One row per pack that has sessions: how its sessions ended, and the last one that took place.
  Incremental: a build recomputes only the packs with a session written since the newest
  sessions_updated_at already here (sessions.updated_at, indexed); a pack's row is replaced whole.
#}
{{ config(
    materialized='incremental',
    unique_key='pack_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['mentor_id']},
        {'columns': ['sessions_updated_at']}
    ]
) }}

-- not materialized: read twice in an incremental build, each time through an index (updated_at,
-- then pack_id), not as one scan of every session
with sessions as not materialized (
    select * from {{ ref('stg_app__sessions') }}
),

{% if is_incremental() %}
changed_packs as (
    select distinct pack_id
    from sessions
    where updated_at >= (select coalesce(max(sessions_updated_at), '-infinity'::timestamptz) from {{ this }})
),
{% endif %}

final as (
    select
        pack_id,
        mentor_id,
        student_id,
        count(*)::integer as sessions_booked,
        (count(*) filter (where status = 'scheduled'))::integer as sessions_scheduled,
        (count(*) filter (where status = 'completed'))::integer as sessions_completed,
        (count(*) filter (where status = 'canceled'))::integer as sessions_canceled,
        (count(*) filter (where status = 'canceled' and canceled_by = student_id))::integer
            as sessions_canceled_by_student,
        (count(*) filter (where status = 'late_canceled'))::integer as sessions_late_canceled,
        (count(*) filter (where status = 'student_no_show'))::integer as sessions_student_no_show,
        (count(*) filter (where status = 'mentor_no_show'))::integer as sessions_mentor_no_show,
        max(starts_at) filter (
            where status in ('completed', 'student_no_show', 'mentor_no_show')
        ) as last_session_at,
        max(updated_at) as sessions_updated_at
    from sessions
    {% if is_incremental() %}
    -- as one array: the plan reads each pack through the index on pack_id, whatever it guesses
    -- of their number
    where pack_id = any(array(select pack_id from changed_packs))
    {% endif %}
    group by pack_id, mentor_id, student_id
)

select * from final
