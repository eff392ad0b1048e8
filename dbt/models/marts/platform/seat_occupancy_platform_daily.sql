-- Seats held of all mentors' capacity at each UTC day's end, from seat_occupancy_daily: what the
-- admins' occupancy chart draws.
select
    day,
    sum(capacity)::bigint as capacity,
    sum(held)::bigint as held,
    case when sum(capacity) > 0
        then round(100.0 * sum(held) / sum(capacity), 1)
    end as held_percent
from {{ ref('seat_occupancy_daily') }}
group by 1
