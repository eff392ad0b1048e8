-- Promotion codes per currency of their redemptions: redemptions (refunded ones too, and apart),
-- discount given, revenue kept, students, and how many of them bought again from the same mentor
-- without the code. A code never redeemed has one row of zeros and no currency.
-- Incremental: the codes touched since the last build are recomputed whole; see
-- promotion_performance.yml.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['promotion_code_id'],
    on_schema_change='fail'
) }}

with

-- not materialized: read several times in an incremental build, each time through an index
codes as not materialized (
    select * from {{ ref('stg_app__promotion_codes') }}
),

payments as not materialized (
    select * from {{ ref('int_payments__fulfilled') }}
),

{% if is_incremental() %}
{% set changed_after = money_activity__changed_after() %}
changed_payments as (
    select student_id, mentor_id, promotion_code_id
    from payments
    where updated_at > {{ changed_after }}
),

-- Codes changed, codes on changed payments, and codes the buyers of changed payments redeemed
-- with the same mentor before (the new payment may be a renewal after them).
touched as (
    select promotion_code_id from codes where updated_at > {{ changed_after }}
    union
    select promotion_code_id from changed_payments where promotion_code_id is not null
    union
    select earlier.promotion_code_id
    from changed_payments
    inner join payments as earlier
        on earlier.student_id = changed_payments.student_id
        and earlier.mentor_id = changed_payments.mentor_id
    where earlier.promotion_code_id is not null
),

codes_in_scope as (
    select * from codes
    where promotion_code_id in (select promotion_code_id from touched)
),
{% else %}
codes_in_scope as (
    select * from codes
),
{% endif %}

-- The codes as one array, so the plan reads their orders through the index on promotion_code_id
-- whatever it guesses of their number.
redemptions as (
    select * from payments
    where promotion_code_id = any(array(select promotion_code_id from codes_in_scope))
),

-- Redeeming students who later paid for another pack of the same mentor without this code: per
-- redemption, the student's later payments through the index on the order's student_id.
renewed as (
    select
        redemptions.promotion_code_id,
        redemptions.currency,
        redemptions.student_id,
        later.updated_at
    from redemptions
    cross join lateral (
        select payments.updated_at
        from payments
        where payments.student_id = redemptions.student_id
            and payments.mentor_id = redemptions.mentor_id
            and payments.paid_at > redemptions.paid_at
            and payments.promotion_code_id is distinct from redemptions.promotion_code_id
    ) as later
),

per_code as (
    select
        promotion_code_id,
        currency,
        count(*)::integer as redemptions,
        count(*) filter (where order_status = 'refunded')::integer as redemptions_refunded,
        sum(discount_cents)::bigint as discount_cents,
        sum(amount_cents - refunded_cents)::bigint as revenue_cents,
        count(distinct student_id)::integer as students,
        max(updated_at) as source_changed_at
    from redemptions
    group by 1, 2
),

renewals as (
    select
        promotion_code_id,
        currency,
        count(distinct student_id)::integer as renewals_after,
        max(updated_at) as source_changed_at
    from renewed
    group by 1, 2
),

final as (
    select
        {{ money_activity__key(['codes.promotion_code_id', 'per_code.currency']) }} as promotion_performance_id,
        codes.promotion_code_id,
        codes.code,
        case when codes.percent_off is not null then 'percent' else 'amount' end as kind,
        per_code.currency,
        codes.percent_off,
        codes.amount_off_cents,
        coalesce(per_code.redemptions, 0) as redemptions,
        coalesce(per_code.redemptions_refunded, 0) as redemptions_refunded,
        coalesce(per_code.discount_cents, 0)::bigint as discount_cents,
        coalesce(per_code.revenue_cents, 0)::bigint as revenue_cents,
        coalesce(per_code.students, 0) as students,
        coalesce(renewals.renewals_after, 0) as renewals_after,
        {{ money_activity__rate('coalesce(renewals.renewals_after, 0)', 'coalesce(per_code.students, 0)') }}
            as renewal_rate,
        greatest(codes.updated_at, per_code.source_changed_at, renewals.source_changed_at) as source_changed_at
    from codes_in_scope as codes
    left join per_code on per_code.promotion_code_id = codes.promotion_code_id
    left join renewals
        on renewals.promotion_code_id = per_code.promotion_code_id
        and renewals.currency = per_code.currency
)

select * from final
