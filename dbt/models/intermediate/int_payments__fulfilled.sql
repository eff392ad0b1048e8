-- Payments of fulfilled orders (paid, or paid and refunded since), with the order's mentor, code and
-- pricing. A flagged order's payment did not match it and granted nothing: not revenue.
with

payments as (
    select * from {{ ref('stg_app__payments') }}
),

orders as (
    select * from {{ ref('stg_app__orders') }}
),

final as (
    select
        payments.payment_id,
        payments.order_id,
        orders.mentor_id,
        orders.student_id,
        orders.product_id,
        orders.promotion_code_id,
        payments.provider,
        payments.currency,
        orders.status as order_status,
        payments.amount_cents,
        payments.refunded_cents,
        orders.discount_cents,
        coalesce(orders.list_price_cents - orders.grandfathered_price_cents, 0) as grandfather_savings_cents,
        payments.paid_at,
        payments.updated_at
    from payments
    inner join orders on orders.order_id = payments.order_id
    where orders.status in ('paid', 'refunded')
)

select * from final
