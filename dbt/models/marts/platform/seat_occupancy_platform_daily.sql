-- Seats taken of all mentors' capacity at each UTC day's end, from seat_occupancy_daily (taken as
-- there: checkout holds, active seats and seats in grace): what the admins' occupancy chart draws.
select
    day,
    sum(capacity)::bigint as capacity,
    sum(held + active + in_grace)::bigint as taken,
    sum(active)::bigint as active,
    sum(in_grace)::bigint as in_grace,
    sum(held)::bigint as held,
    case when sum(capacity) > 0
        then round(100.0 * sum(held + active + in_grace) / sum(capacity), 1)
    end as occupancy_percent
from {{ ref('seat_occupancy_daily') }}
group by 1
