-- Append-only record of every credit movement; a pack's remaining_sessions = sessions_total + sum(delta).
select
    id as ledger_entry_id,
    pack_id,
    mentor_id,
    student_id,
    session_id,
    kind::text as kind,
    delta,
    actor_id,
    created_at
from {{ source('app', 'session_credit_ledger') }}
