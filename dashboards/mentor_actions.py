"""The mentor's actions on one session, shared by their pages: join the call, cancel after its
terms, reschedule into a free slot, close (completed with notes and a recording link, or a
no-show by either side, confirmed), and resolve a change the calendar sync flagged. Each is an
RPC; its refusal is shown as its message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from dashboards import fmt, ui
from dashboards.mentor import (
    call_link,
    done,
    me_id,
    now,
    rpc_rows,
    student_name,
)

RESCHEDULE_DAYS = 14


def _call(name: str, args: dict[str, Any], what: str) -> bool:
    """An RPC; whether it went through (its refusal is shown)."""
    with ui.shown_errors(what):
        ui.api().rpc(name, args)
        return True
    return False


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
