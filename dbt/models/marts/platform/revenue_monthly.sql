-- Money per UTC month and currency over every mentor and provider, from revenue_daily: what the
-- admins' revenue chart draws. Never summed across currencies.
select
    date_trunc('month', revenue_day)::date as revenue_month,
    currency,
    sum(gross_cents)::bigint as gross_cents,
    sum(refund_cents)::bigint as refund_cents,
    sum(net_cents)::bigint as net_cents,
    sum(orders_paid)::bigint as orders_paid
from {{ ref('revenue_daily') }}
group by 1, 2
