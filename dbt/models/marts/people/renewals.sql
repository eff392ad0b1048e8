-- One row per depleted or expired pack: did the student buy the next pack with the mentor inside
-- the pack's grace period? Grace is [ended_at, grace_ends_at), as the seat rule has it
-- (release_expired_seats releases a seat at grace_ends_at <= now): a purchase exactly at
-- grace_ends_at is too late. Refunded packs are left out (their seat is released at once).
-- Incremental: whole pairs of a mentor and a student, those with a pack changed since the last
-- build and those with a row still undecided whose grace has ended since; see renewals.yml.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['mentor_id', 'student_id'],
    on_schema_change='fail',
    indexes=[{'columns': ['pack_id'], 'unique': true}, {'columns': ['source_changed_at']}]
) }}

with

-- not materialized: read twice in an incremental build, each time through an index
packs as not materialized (
    select * from {{ ref('stg_app__session_packs') }}
),

orders as (
    select * from {{ ref('stg_app__orders') }}
),

{% if is_incremental() %}
-- A pack bought, used up, expired or refunded since the last build; or a row whose grace ended
-- with no next pack since (undecided then, not renewed now: time alone changes it).
pairs as (
    select mentor_id, student_id
    from packs
    where updated_at > {{ money_activity__changed_after() }}
    union
    select mentor_id, student_id
    from {{ this }}
    where renewed_within_grace is null and grace_ends_at <= {{ report_now() }}
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

sequenced as (
    select
        pack_id,
        mentor_id,
        student_id,
        status,
        grace_period_hours,
        purchased_at,
        depleted_at,
        expired_at,
        lead(pack_id) over pair as next_pack_id,
        lead(order_id) over pair as next_order_id,
        lead(purchased_at) over pair as renewed_at,
        max(updated_at) over (partition by mentor_id, student_id) as source_changed_at
    from packs_in_scope
    window pair as (partition by mentor_id, student_id order by purchased_at, pack_id)
),

ended as (
    -- a depleted pack that later expired ended when it was depleted
    select
        *,
        case
            when depleted_at is not null and (expired_at is null or depleted_at <= expired_at) then 'depleted'
            else 'expired'
        end as ended_as,
        least(depleted_at, expired_at) as ended_at
    from sequenced
    where status in ('depleted', 'expired')
),

final as (
    select
        ended.pack_id,
        ended.mentor_id,
        ended.student_id,
        ended.next_pack_id,
        ended.ended_as,
        ended.grace_period_hours,
        case
            when ended.renewed_at is not null
                then round(greatest(extract(epoch from (ended.renewed_at - ended.ended_at)), 0) / 86400, 1)
        end as days_to_renew,
        case
            when ended.renewed_at is not null
                then ended.renewed_at < ended.ended_at + make_interval(hours => ended.grace_period_hours)
            when {{ report_now() }} >= ended.ended_at + make_interval(hours => ended.grace_period_hours)
                then false
        end as renewed_within_grace,
        case
            when ended.next_pack_id is not null then coalesce(orders.grandfathered_price_cents is not null, false)
        end as grandfathered_price_used,
        ended.ended_at,
        ended.ended_at + make_interval(hours => ended.grace_period_hours) as grace_ends_at,
        ended.renewed_at,
        ended.source_changed_at
    from ended
    left join orders on orders.order_id = ended.next_order_id
)

select * from final
