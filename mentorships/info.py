"""What `mentorships info` (and `make demo`) prints: URLs, keys, the demo accounts and curl
lines that work against the running stack."""

from __future__ import annotations

import psycopg

from mentorships import db
from mentorships import jwt as jwt_
from mentorships.errors import StackError
from mentorships.settings import Settings

DEMO_EMAIL_SUFFIX = "@demo.mentorships.test"
ADMIN_EMAIL = "admin" + DEMO_EMAIL_SUFFIX


def _demo_counts(settings: Settings) -> tuple[int, int] | None:
    try:
        with db.connect(settings) as conn:
            row = conn.execute(
                "select count(*) filter (where p.role = 'mentor'), "
                "count(*) filter (where p.role = 'student') "
                "from auth.users u join public.profiles p on p.id = u.id "
                "where lower(u.email) like %s",
                ("%" + DEMO_EMAIL_SUFFIX,),
            ).fetchone()
    except (StackError, psycopg.Error):
        return None
    return None if row is None else (int(row[0]), int(row[1]))


PREFERRED_MART = "instructor_overview"


def _marts(settings: Settings) -> list[str] | None:
    """The tables in analytics (None when the database does not answer)."""
    try:
        with db.connect(settings) as conn:
            return [
                str(r[0])
                for r in conn.execute(
                    "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                    " where n.nspname = 'analytics' and c.relkind in ('r', 'p') order by 1"
                )
            ]
    except (StackError, psycopg.Error):
        return None


def reports_lines(settings: Settings) -> list[str]:
    """Where the reports are: the analyst's connection string, the marts, a curl line as an
    admin (Accept-Profile: analytics)."""
    anon = jwt_.anon_key(settings)
    found = _marts(settings)
    if found is None:
        built = "  (database not reachable)"
    elif not found:
        built = "  (not built yet: run `mentorships reports build`)"
    else:
        built = f"  marts: {', '.join(found)}"
    mart = PREFERRED_MART if not found or PREFERRED_MART in found else found[0]
    return [
        "Reports (dbt marts in the `analytics` schema; `mentorships reports build`, `reports docs`)",
        f"  analyst (SQL, read-only)   {settings.analyst_dsn()}",
        built,
        "  # 4. a report as an admin (students and mentors read nothing there)",
        f"  ADMIN=$(.venv/bin/mentorships token {ADMIN_EMAIL})",
        f"  curl -s '{settings.rest_url}/{mart}?limit=5' -H \"apikey: {anon}\" "
        '-H "Authorization: Bearer $ADMIN" -H "Accept-Profile: analytics"',
    ]


def dashboards_lines(settings: Settings) -> list[str]:
    """Where the dashboards are and how to sign in there (a local stack: no passwords)."""
    if not settings.dashboards:
        return ["  dashboards                 off (MENTORSHIPS_DASHBOARDS=false)"]
    return [
        f"  dashboards                 {settings.dashboards_url}/",
        "                             (open it in a browser; under Local sign-in choose a role and",
        f"                             an account, e.g. {ADMIN_EMAIL} or",
        f"                             student1{DEMO_EMAIL_SUFFIX}: no password on a local stack)",
    ]


def info_text(settings: Settings) -> str:
    """URLs, keys, demo accounts and three curl lines that work after `mentorships seed`."""
    anon = jwt_.anon_key(settings)
    service = jwt_.service_role_key(settings)
    rest = settings.rest_url
    cli = ".venv/bin/mentorships"
    student = f"student1{DEMO_EMAIL_SUFFIX}"
    counts = _demo_counts(settings)
    if counts is None:
        seeded = "  (database not reachable: start it with `mentorships up`)"
    elif counts == (0, 0):
        seeded = "  (no demo data yet: run `mentorships seed`)"
    else:
        seeded = (
            f"  seeded: mentor1..mentor{counts[0]}, student1..student{counts[1]}{DEMO_EMAIL_SUFFIX}"
        )
    catalog = (
        f"{rest}/mentors?select=public_name,time_zone,free_seats,"
        "mentorship_products(title,price_cents,currency)"
    )
    packs = (
        f"{rest}/session_packs?select=status,sessions_total,remaining_sessions,expires_at,"
        "mentors(public_name)&order=purchased_at.desc"
    )
    lines = [
        "Mentorships local stack",
        *dashboards_lines(settings),
        f"  REST API (Supabase-style)  {rest}",
        f"  Postgres                   {settings.dsn()}",
        f"  services (checkout, hooks) {settings.public_services_url}",
        f"                             (through the gateway; directly: {settings.services_url})",
        f"  anon key                   {anon}",
        f"  service-role key           {service}",
        "                             (bypasses RLS: servers and workers only)",
        "",
        "Demo accounts (no passwords: mint a JWT for one with `mentorships token EMAIL`)",
        f"  admin    {ADMIN_EMAIL}",
        f"  mentor   mentor1{DEMO_EMAIL_SUFFIX}",
        f"  student  {student}",
        seeded,
        f"  token:   {cli} token {student}",
        f"  call:    {cli} token {student} --call next   (the video call page's URL, JWT included)",
        "",
        "Try it (from the project directory):",
        "  # 1. the public catalog, as a visitor (anon key only)",
        f"  curl -s '{catalog}' -H \"apikey: {anon}\"",
        "",
        "  # 2. a student's own packs (RLS returns only theirs)",
        f"  TOKEN=$({cli} token {student})",
        f'  curl -s \'{packs}\' -H "apikey: {anon}" -H "Authorization: Bearer $TOKEN"',
        "",
        '  # 3. refused: a student cannot touch their credits (HTTP 403, "permission denied for',
        '  #    table session_packs"), and RLS hides the audit log from them (prints [])',
        f"  curl -s -w '\\nHTTP %{{http_code}}\\n' -X PATCH '{rest}/session_packs?status=eq.active' "
        f'-H "apikey: {anon}" -H "Authorization: Bearer $TOKEN" '
        "-H 'Content-Type: application/json' -d '{\"remaining_sessions\": 99}'",
        f"  curl -s '{rest}/audit_log?select=action,created_at' "
        f'-H "apikey: {anon}" -H "Authorization: Bearer $TOKEN"',
        "",
        *reports_lines(settings),
    ]
    return "\n".join(lines)
