"""What the admin's pages share: the admin check, reads of every page of a table, people found by
name or email, the instructor-mentee CSV and the reports' "as of"."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from dashboards import auth, fmt, ui
from dashboards.api import ApiError

PAGE = 1000  # PostgREST's db-max-rows: a longer read comes in pages of this size
MAX_PAGES = 50


def admin() -> auth.SignedIn:
    """The signed-in admin; anyone else sees a refusal and nothing more (RLS refuses them too)."""
    me = ui.me()
    if me.role != "admin":
        st.error("This page is for admins.", icon=":material/block:")
        st.stop()
    return me


def now() -> dt.datetime:
    """The rules' clock (ui.now()); when the API refuses, its message and the page stops."""
    try:
        return ui.now()
    except ApiError as e:
        st.error(str(e), icon=":material/error:")
        st.stop()


def every_row(
    table: str, params: dict[str, str], *, profile: str | None = None
) -> list[dict[str, Any]]:
    """Every row of a read, page after page (at most MAX_PAGES pages)."""
    rows: list[dict[str, Any]] = []
    for n in range(MAX_PAGES):
        page, total = ui.api().page(table, params, offset=n * PAGE, limit=PAGE, profile=profile)
        rows.extend(page)
        if len(page) < PAGE or (total is not None and len(rows) >= total):
            break
    return rows


def quoted(term: str) -> str:
    """A PostgREST filter value in double quotes (commas, dots and parentheses kept literal)."""
    return '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'


def people_matching(term: str) -> list[str]:
    """Ids of the people whose name, mentor name or email contains `term` (any case)."""
    like = quoted(f"*{term}*")
    found = ui.api().rows(
        "profiles",
        {"select": "id", "or": f"(display_name.ilike.{like},email.ilike.{like})", "limit": "200"},
    )
    mentors = ui.api().rows(
        "mentors", {"select": "id", "or": f"(public_name.ilike.{like},slug.ilike.{like})"}
    )
    return sorted({str(r["id"]) for r in found + mentors})


def names(ids: set[str]) -> dict[str, str]:
    """Display names (or emails) of these people."""
    if not ids:
        return {}
    rows = ui.api().rows(
        "profiles", {"select": "id,display_name,email", "id": f"in.({','.join(sorted(ids))})"}
    )
    return {str(r["id"]): r["display_name"] or r["email"] or str(r["id"]) for r in rows}


def zone_sentence(zone: str) -> str:
    """ "Times in Europe/Berlin (CET)." for a caption."""
    note = fmt.zone_note(zone)
    return note[0].upper() + note[1:] + "."


def local(value: str | None, zone: str) -> str:
    """An instant as a spreadsheet reads it, in `zone`: "2026-12-03 17:00"; empty for none."""
    t = fmt.instant(value)
    return "" if t is None else t.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


CSV_COLUMNS = (
    "Mentor",
    "Mentor email",
    "Student",
    "Student email",
    "Sessions remaining",
    "Sessions total",
    "Sessions completed",
    "Last session ({zone})",
    "Next session ({zone})",
    "Pack status",
    "Pack expires ({zone})",
    "Seat status",
)


def relationships_csv(rows: list[dict[str, Any]], zone: str) -> bytes:
    """The instructor-mentee relationships as a CSV a spreadsheet opens: UTF-8 with a BOM, a
    header naming the zone of its times, one row per relationship, fields quoted as needed."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([c.format(zone=zone) for c in CSV_COLUMNS])
    for r in rows:
        w.writerow(
            [
                r.get("mentor_name") or "",
                r.get("mentor_email") or "",
                r.get("student_name") or "",
                r.get("student_email") or "",
                r.get("sessions_remaining", 0),
                r.get("sessions_total", 0),
                r.get("sessions_completed", 0),
                local(r.get("last_session_at"), zone),
                local(r.get("next_session_at"), zone),
                r.get("current_pack_status") or "",
                local(r.get("current_pack_expires_at"), zone),
                r.get("seat_status") or "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def last_build() -> dict[str, Any] | None:
    """The last succeeded report build (its finished_at is the reports' "as of"), or None."""
    rows = ui.read(
        ("admin", "report_runs"),
        lambda: ui.api().rows(
            "report_runs",
            {
                "select": "id,finished_at,kind",
                "outcome": "eq.succeeded",
                "order": "finished_at.desc",
                "limit": "1",
            },
        ),
    )
    return rows[0] if rows else None


def day_start(day: dt.date, zone: str) -> str:
    """Midnight of `day` in `zone`, as an instant with its offset."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).isoformat()
