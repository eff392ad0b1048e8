-- Sessions per outcome and week over every mentor, from session_outcomes: what the admins'
-- outcomes chart draws.
select
    week_start,
    sum(completed)::bigint as completed,
    sum(canceled_early)::bigint as canceled_early,
    sum(canceled_late)::bigint as canceled_late,
    sum(student_no_shows)::bigint as student_no_shows,
    sum(mentor_no_shows)::bigint as mentor_no_shows
from {{ ref('session_outcomes') }}
group by 1
