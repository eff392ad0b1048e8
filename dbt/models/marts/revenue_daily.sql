-- Money per UTC day, mentor, currency and provider: charged on the day a payment was captured,
-- refunded on the day each refund was recorded. Never summed across currencies.
-- Incremental: the groups (day x mentor x currency x provider) of payments changed since the last
-- build (a refund changes its payment) are recomputed whole; see revenue_daily.yml.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['revenue_day', 'mentor_id', 'currency', 'provider'],
    on_schema_change='fail'
) }}

with

-- not materialized: read several times in an incremental build, each time through an index
payments as not materialized (
    select * from {{ ref('int_payments__fulfilled') }}
),

refunds as not materialized (
    select
        refunds.payment_refund_id,
        refunds.payment_id,
        payments.mentor_id,
        payments.currency,
        payments.provider,
        refunds.amount_cents,
        {{ money_activity__utc_day('refunds.refunded_at') }} as revenue_day,
        refunds.refunded_at,
        payments.updated_at
    from {{ ref('stg_app__payment_refunds') }} as refunds
    inner join payments on payments.payment_id = refunds.payment_id
),

{% if is_incremental() %}
changed as (
    select payment_id, mentor_id, currency, provider, paid_at
    from payments
    where updated_at > {{ money_activity__changed_after() }}
),

touched as (
    select mentor_id, currency, provider, {{ money_activity__utc_day('paid_at') }} as revenue_day
    from changed
    union
    select mentor_id, currency, provider, revenue_day
    from refunds
    where payment_id in (select payment_id from changed)
),

-- Whole days through the indexes on the UTC days of paid_at and refunded_at (the days as one
-- array, so the plan reads each through the index), the days' other groups dropped.
payments_in_scope as (
    select payments.*
    from payments
    where {{ money_activity__utc_day('payments.paid_at') }} = any(array(select distinct revenue_day from touched))
        and exists (
            select from touched
            where touched.revenue_day = {{ money_activity__utc_day('payments.paid_at') }}
                and touched.mentor_id = payments.mentor_id
                and touched.currency = payments.currency
                and touched.provider = payments.provider
        )
),

refunds_in_scope as (
    select refunds.*
    from refunds
    where refunds.revenue_day = any(array(select distinct revenue_day from touched))
        and exists (
            select from touched
            where touched.revenue_day = refunds.revenue_day
                and touched.mentor_id = refunds.mentor_id
                and touched.currency = refunds.currency
                and touched.provider = refunds.provider
        )
),
{% else %}
payments_in_scope as (
    select * from payments
),

refunds_in_scope as (
    select * from refunds
),
{% endif %}

charged as (
    select
        mentor_id,
        currency,
        provider,
        {{ money_activity__utc_day('paid_at') }} as revenue_day,
        sum(amount_cents)::bigint as gross_cents,
        sum(discount_cents)::bigint as discount_cents,
        sum(grandfather_savings_cents)::bigint as grandfather_savings_cents,
        count(*)::integer as orders_paid,
        max(updated_at) as source_changed_at
    from payments_in_scope
    group by 1, 2, 3, 4
),

refunded as (
    select
        mentor_id,
        currency,
        provider,
        revenue_day,
        sum(amount_cents)::bigint as refund_cents,
        count(*)::integer as refunds,
        max(updated_at) as source_changed_at
    from refunds_in_scope
    group by 1, 2, 3, 4
),

final as (
    select
        {{ money_activity__key([
            'coalesce(charged.revenue_day, refunded.revenue_day)',
            'coalesce(charged.mentor_id, refunded.mentor_id)',
            'coalesce(charged.currency, refunded.currency)',
            'coalesce(charged.provider, refunded.provider)',
        ]) }} as revenue_daily_id,
        coalesce(charged.mentor_id, refunded.mentor_id) as mentor_id,
        coalesce(charged.currency, refunded.currency) as currency,
        coalesce(charged.provider, refunded.provider) as provider,
        coalesce(charged.gross_cents, 0)::bigint as gross_cents,
        coalesce(charged.discount_cents, 0)::bigint as discount_cents,
        coalesce(charged.grandfather_savings_cents, 0)::bigint as grandfather_savings_cents,
        coalesce(refunded.refund_cents, 0)::bigint as refund_cents,
        (coalesce(charged.gross_cents, 0) - coalesce(refunded.refund_cents, 0))::bigint as net_cents,
        coalesce(charged.orders_paid, 0)::integer as orders_paid,
        coalesce(refunded.refunds, 0)::integer as refunds,
        coalesce(charged.revenue_day, refunded.revenue_day) as revenue_day,
        greatest(charged.source_changed_at, refunded.source_changed_at) as source_changed_at
    from charged
    full outer join refunded
        on refunded.mentor_id = charged.mentor_id
        and refunded.currency = charged.currency
        and refunded.provider = charged.provider
        and refunded.revenue_day = charged.revenue_day
)

select * from final
