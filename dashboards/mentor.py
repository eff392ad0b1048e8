"""What the mentor's pages share: the mentor's own row, students, sessions (scheduled, a page of
history, a window), the calendar flags, the rules' clock, names and the call page's link. Every
read goes through the gateway as the mentor (RLS decides); the actions on one session are in
dashboards/mentor_actions.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from dashboards import fmt, ui
from dashboards.api import ApiError

SESSION_FIELDS = "*,student(display_name,time_zone)"
STATUS = {
    "scheduled": "scheduled",
    "completed": "completed",
    "canceled": "canceled",
    "late_canceled": "canceled late",
    "student_no_show": "student no-show",
    "mentor_no_show": "mentor no-show",
}


def me_id() -> str:
    return ui.me().user_id


def mentor_row() -> dict[str, Any]:
    """The signed-in mentor's own row with its free seats; the page stops without one."""
    uid = me_id()
    rows = ui.rows_or_stop(
        ("mentor", "row", uid),
        lambda: ui.api().rows("mentors", {"select": "*,free_seats", "id": f"eq.{uid}"}),
    )
    if not rows:
        st.info("You have no mentor profile yet: ask an admin to create it.")
        st.stop()
    return rows[0]


def now() -> dt.datetime:
    """The rules' clock (ui.now); a refusal is shown and the page stops there."""
    try:
        return ui.now()
    except ApiError as e:
        st.error(str(e), icon=":material/error:")
        st.stop()


def mentees() -> list[dict[str, Any]]:
    return ui.rows_or_stop(("mentor", "mentees", me_id()), lambda: rpc_rows("my_mentees"))


def rpc_rows(name: str, args: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return list(ui.api().rpc(name, args, read=True) or [])


def scheduled() -> list[dict[str, Any]]:
    """Every session of the mentor still scheduled (upcoming, and past ones not closed yet)."""
    uid = me_id()
    params = {
        "select": SESSION_FIELDS,
        "mentor_id": f"eq.{uid}",
        "status": "eq.scheduled",
        "order": "starts_at.asc,id.asc",
    }
    return ui.rows_or_stop(("mentor", "scheduled", uid), lambda: ui.api().rows("sessions", params))


def history_page(before: str | None, before_id: str | None, rows: int) -> list[dict[str, Any]]:
    """One page of the mentor's sessions, newest first (mentor_sessions' keyset paging)."""
    args = {"before": before, "before_id": before_id, "max_rows": str(rows)}
    return ui.rows_or_stop(
        ("mentor", "history", me_id(), before, before_id, rows),
        lambda: rpc_rows("mentor_sessions", args),
    )


def sessions_between(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """The mentor's sessions starting in [start, end), every status, oldest first."""
    found: list[dict[str, Any]] = []
    before, before_id = end.astimezone(dt.UTC).isoformat(), None
    for _ in range(20):  # at most 20 pages of 200
        page = history_page(before, before_id, 200)
        found += [r for r in page if fmt.instant(r["starts_at"]) >= start]  # type: ignore[operator]
        if len(page) < 200 or fmt.instant(page[-1]["starts_at"]) < start:  # type: ignore[operator]
            break
        before, before_id = page[-1]["starts_at"], page[-1]["id"]
    return sorted(found, key=lambda r: str(r["starts_at"]))


def open_flags() -> list[dict[str, Any]]:
    """The calendar sync's open flags on the mentor's sessions (deleted or moved in Google)."""
    uid = me_id()
    params = {"mentor_id": f"eq.{uid}", "resolved_at": "is.null", "order": "noticed_at.asc"}
    return ui.rows_or_stop(
        ("mentor", "flags", uid), lambda: ui.api().rows("calendar_event_changes", params)
    )


def names() -> dict[str, str]:
    return {str(m["student_id"]): str(m["student_name"] or "") for m in mentees()}


def student_name(session: dict[str, Any]) -> str:
    embedded = session.get("student") or {}
    return str(embedded.get("display_name") or names().get(str(session["student_id"]), "a student"))


def call_link(session_id: str) -> str | None:
    base = ui.settings().dashboards_services_url
    if not base:
        return None
    return f"{base.rstrip('/')}/video/{session_id}#access_token={ui.me().access_token}"


def label(session: dict[str, Any], zone: str) -> str:
    return f"{fmt.when(session['starts_at'], zone)} · {student_name(session)}"


def done(message: str) -> None:
    """After the mentor's own change: fresh reads, the message shown on the next run."""
    ui.changed()
    st.session_state["mentor_flash"] = message
    st.rerun()


def flash() -> None:
    message = st.session_state.pop("mentor_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")
