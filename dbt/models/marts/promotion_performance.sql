-- Promotion codes per currency of their redemptions: redemptions (refunded ones too, and apart),
-- discount given, revenue kept, students, and how many of them bought again from the same mentor
-- without the code. A code never redeemed has one row of zeros and no currency.
with

codes as (
    select * from {{ ref('stg_app__promotion_codes') }}
),

payments as (
    select * from {{ ref('int_payments__fulfilled') }}
),

redemptions as (
    select * from payments
    where promotion_code_id is not null
),

-- Redeeming students who later paid for another pack of the same mentor without this code.
renewed as (
    select distinct
        redemptions.promotion_code_id,
        redemptions.currency,
        redemptions.student_id
    from redemptions
    inner join payments as later
        on later.student_id = redemptions.student_id
        and later.mentor_id = redemptions.mentor_id
        and later.paid_at > redemptions.paid_at
        and later.promotion_code_id is distinct from redemptions.promotion_code_id
),

per_code as (
    select
        promotion_code_id,
        currency,
        count(*)::integer as redemptions,
        count(*) filter (where order_status = 'refunded')::integer as redemptions_refunded,
        sum(discount_cents)::bigint as discount_cents,
        sum(amount_cents - refunded_cents)::bigint as revenue_cents,
        count(distinct student_id)::integer as students
    from redemptions
    group by 1, 2
),

renewals as (
    select promotion_code_id, currency, count(*)::integer as renewals_after
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
            as renewal_rate
    from codes
    left join per_code on per_code.promotion_code_id = codes.promotion_code_id
    left join renewals
        on renewals.promotion_code_id = per_code.promotion_code_id
        and renewals.currency = per_code.currency
)

select * from final
