{#
  One row per pack that has sessions: how its sessions ended, and the last one that took place.
  Incremental: a build recomputes only the packs with a session written since the newest
  sessions_updated_at already here (sessions.updated_at, indexed); a pack's row is replaced whole.
#}
{{ config(
    materialized='incremental',
    unique_key='pack_id',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['pack_id'], 'unique': true}, {'columns': ['mentor_id']}]
) }}

with sessions as (
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
    where pack_id in (select pack_id from changed_packs)
    {% endif %}
    group by pack_id, mentor_id, student_id
)

select * from final
