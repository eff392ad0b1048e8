"""What the mentor's pages share: the mentor's own row, students, sessions (scheduled, a page of
history, a window), the calendar flags, and the actions on one session (join, cancel with its
terms, reschedule into a free slot, complete, no-show, resolve a calendar change). Every read goes
through the gateway as the mentor; every change is an RPC, whose refusal is shown as its message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from dashboards import fmt, ui
from dashboards.api import ApiError

SESSION_FIELDS = "*,student(display_name,time_zone)"
RESCHEDULE_DAYS = 14
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


def _call(name: str, args: dict[str, Any], what: str) -> bool:
    """An RPC; whether it went through (its refusal is shown)."""
    with ui.shown_errors(what):
        ui.api().rpc(name, args)
        return True
    return False


# --- actions on one session -------------------------------------------------------------------


def join(session: dict[str, Any]) -> None:
    link = call_link(str(session["id"]))
    if link:
        st.link_button("Join the call", link, icon=":material/videocam:")
        st.caption("The call opens 10 minutes before the start.")


def cancel(session: dict[str, Any]) -> None:
    sid = str(session["id"])
    if not st.session_state.get(f"canceling_{sid}"):
        if st.button("Cancel the session…", key=f"cancel_{sid}", icon=":material/event_busy:"):
            st.session_state[f"canceling_{sid}"] = True
            st.rerun()
        return
    terms: list[dict[str, Any]] | None = None
    with ui.shown_errors("Cancel"):
        terms = list(ui.api().rpc("cancel_terms", {"session_id": sid}, read=True) or [])
    if terms:
        back = terms[0]["credit_restored"]
        st.info(
            "If you cancel now, the student gets the session back on their pack."
            if back
            else "If you cancel now, the student does not get the session back.",
            icon=":material/info:",
        )
    reason = st.text_input("Reason (the student sees it)", key=f"cancel_reason_{sid}")
    left, right = st.columns(2)
    if left.button(
        "Confirm: cancel the session", key=f"cancel_confirm_{sid}", type="primary"
    ) and _call("cancel_session", {"session_id": sid, "reason": reason or None}, "Cancel"):
        st.session_state.pop(f"canceling_{sid}", None)
        done(f"Canceled the session of {student_name(session)}.")
    if right.button("Keep it", key=f"cancel_keep_{sid}"):
        st.session_state.pop(f"canceling_{sid}", None)
        st.rerun()


def reschedule(session: dict[str, Any], zone: str) -> None:
    sid = str(session["id"])
    start = now()
    args = {
        "mentor_id": me_id(),
        "from_at": start.isoformat(),
        "to_at": (start + dt.timedelta(days=RESCHEDULE_DAYS)).isoformat(),
    }
    slots: list[dict[str, Any]] = []
    with ui.shown_errors("Free slots"):
        slots = ui.read(
            ("mentor", "slots", me_id(), args["from_at"]),
            lambda: rpc_rows("mentor_availability", args),
        )
    if not slots:
        st.caption(f"No free slot in the next {RESCHEDULE_DAYS} days to move it to.")
        return
    starts = [str(s["starts_at"]) for s in slots]
    choice = st.selectbox(
        f"Move to a free slot ({zone})",
        starts,
        format_func=lambda t: fmt.when(t, zone),
        key=f"reschedule_slot_{sid}",
    )
    if st.button(
        "Move the session", key=f"reschedule_confirm_{sid}", icon=":material/update:"
    ) and _call("reschedule_session", {"session_id": sid, "starts_at": choice}, "Reschedule"):
        done(f"Moved the session of {student_name(session)} to {fmt.when(choice, zone)}.")


def close(session: dict[str, Any]) -> None:
    """Complete with notes and a recording link, or a no-show by either side (confirmed)."""
    sid = str(session["id"])
    notes = st.text_area("Notes (the student sees them)", key=f"complete_notes_{sid}")
    url = st.text_input("Recording link (https://…)", key=f"complete_url_{sid}")
    if st.button("Mark completed", key=f"complete_{sid}", type="primary", icon=":material/done:"):
        args = {"session_id": sid, "notes": notes or None, "recording_url": url or None}
        if _call("complete_session", args, "Complete"):
            done(f"Completed the session of {student_name(session)}.")
    pending = st.session_state.get(f"noshow_{sid}")
    left, right = st.columns(2)
    if pending is None:
        if left.button("The student did not come", key=f"noshow_student_{sid}"):
            st.session_state[f"noshow_{sid}"] = "student"
            st.rerun()
        if right.button("I could not come", key=f"noshow_mentor_{sid}"):
            st.session_state[f"noshow_{sid}"] = "mentor"
            st.rerun()
        return
    st.warning(
        "A student no-show uses the session from their pack."
        if pending == "student"
        else "Your no-show gives the student the session back on their pack.",
        icon=":material/warning:",
    )
    if left.button(
        f"Confirm: {pending} no-show", key=f"noshow_confirm_{sid}", type="primary"
    ) and _call("mark_no_show", {"session_id": sid, "who": pending}, "No-show"):
        st.session_state.pop(f"noshow_{sid}", None)
        done(f"Recorded a {pending} no-show for the session of {student_name(session)}.")
    if right.button("Back", key=f"noshow_back_{sid}"):
        st.session_state.pop(f"noshow_{sid}", None)
        st.rerun()


def resolve(flag: dict[str, Any], session: dict[str, Any] | None, zone: str) -> None:
    """A session whose Google event was deleted or moved: cancel it, or put the event back."""
    sid = str(flag["session_id"])
    who = student_name(session) if session else "a session"
    when = fmt.when(session["starts_at"], zone) if session else sid
    if flag["change"] == "deleted":
        st.markdown(f"**{when}** with {who}: its event was **deleted** in Google Calendar.")
    else:
        moved = fmt.when(flag["google_starts_at"], zone)
        st.markdown(f"**{when}** with {who}: its event was **moved** in Google to {moved}.")
    st.caption(f"Noticed {fmt.when(flag['noticed_at'], zone)}. Nothing changed until you choose.")
    left, right = st.columns(2)
    if left.button("Put the event back", key=f"resolve_restore_{sid}") and _call(
        "resolve_calendar_change", {"session_id": sid, "choice": "restore"}, "Restore"
    ):
        done("The event goes back into your calendar at the session's time.")
    if not st.session_state.get(f"resolving_{sid}"):
        if right.button("Cancel the session…", key=f"resolve_cancel_{sid}"):
            st.session_state[f"resolving_{sid}"] = True
            st.rerun()
        return
    right.caption("The student gets the session back on their pack; both of you are told.")
    if right.button(
        "Confirm: cancel it", key=f"resolve_cancel_confirm_{sid}", type="primary"
    ) and _call("resolve_calendar_change", {"session_id": sid, "choice": "cancel"}, "Cancel"):
        st.session_state.pop(f"resolving_{sid}", None)
        done(f"Canceled the session of {who}.")
