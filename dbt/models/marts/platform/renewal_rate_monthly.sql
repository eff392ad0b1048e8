-- Of the packs that ended (used up or expired) in a UTC month and whose grace has run its course
-- (renewals.renewed_within_grace decided), how many were renewed within the grace period: what the
-- admins' renewal chart draws.
select
    date_trunc('month', ended_at at time zone 'UTC')::date as ended_month,
    count(*)::bigint as ended,
    count(*) filter (where renewed_within_grace)::bigint as renewed,
    round(100.0 * count(*) filter (where renewed_within_grace) / count(*), 1) as renewed_percent
from {{ ref('renewals') }}
where renewed_within_grace is not null
group by 1
