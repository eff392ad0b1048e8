"""My sessions: the upcoming ones with join (the call page), reschedule (another free slot) and
cancel (the page says first whether the credit comes back: `cancel_terms`), and the history
(held, canceled, no-shows) with the mentor's notes and recording."""

from __future__ import annotations

import streamlit as st

from dashboards import fmt, student, ui
from dashboards.api import ApiError

me = ui.me()
zone = me.zone
ACTION = "sessions_action"
st.title("My sessions")

flash = st.session_state.pop("sessions_done", None)
if flash:
    st.success(flash, icon=":material/check_circle:")


def choose(action: str, session_id: str) -> None:
    st.session_state[ACTION] = (action, session_id)
    student.forget_pick("reschedule")
    st.session_state.pop("reschedule_week", None)


def close() -> None:
    st.session_state.pop(ACTION, None)


def cancel_panel(s: student.Row) -> None:
    sid = str(s["id"])
    try:
        terms = ui.api().rpc("cancel_terms", {"session_id": sid}, read=True)[0]
    except ApiError as e:
        st.error(f"This session cannot be canceled: {e}", icon=":material/error:")
        st.button("Back", key="cancel_back", on_click=close)
        return
    until = fmt.when(terms.get("credit_back_until"), zone)
    notice = terms["cancel_notice_hours"]
    if terms["credit_restored"]:
        st.info(
            f"Your credit comes back if you cancel now: you may cancel with the credit back "
            f"until {until} ({notice} h before the start).",
            icon=":material/undo:",
        )
    else:
        st.warning(
            f"Late cancel: the session starts in less than {notice} h, so the credit is NOT "
            f"given back (the last moment to cancel with the credit back was {until}).",
            icon=":material/money_off:",
        )
    reason = st.text_input("Reason (optional, your mentor sees it)", key="cancel_reason")
    yes, no = st.columns(2)
    if yes.button("Yes, cancel the session", key="cancel_confirm", type="primary"):
        try:
            change = ui.api().rpc("cancel_session", {"session_id": sid, "reason": reason or None})
        except ApiError as e:
            ui.changed()
            st.error(f"Not canceled: {e}", icon=":material/error:")
            return
        ui.changed()
        close()
        back = "your credit is back" if change.get("credit_restored") else "the credit is used"
        st.session_state["sessions_done"] = f"Session canceled; {back}."
        st.rerun()
    no.button("Keep the session", key="cancel_back", on_click=close)


def reschedule_panel(s: student.Row) -> None:
    sid = str(s["id"])
    their_zone = student.mentor_zone(s)
    st.caption("Pick a new slot; your credit stays as it is.")
    slot = student.pick_slot("reschedule", str(s["mentor_id"]), their_zone)
    if slot is not None:
        st.markdown(f"New time: {student.slot_summary(slot, their_zone)}")
        if st.button("Move the session here", key="reschedule_confirm", type="primary"):
            try:
                moved = ui.api().rpc(
                    "reschedule_session", {"session_id": sid, "starts_at": str(slot["starts_at"])}
                )
            except ApiError as e:
                ui.changed()
                st.error(f"Not moved: {e}", icon=":material/error:")
            else:
                ui.changed()
                close()
                student.forget_pick("reschedule")
                st.session_state["sessions_done"] = (
                    f"Session moved to {fmt.when(moved['starts_at'], zone)}."
                )
                st.rerun()
    st.button("Back", key="reschedule_back", on_click=close)


upcoming_tab, history_tab = st.tabs(["Upcoming", "History"])
with upcoming_tab:
    upcoming = student.sessions(upcoming=True)
    st.caption(f"Your {fmt.zone_note(zone)}.")
    if not upcoming:
        st.info("No sessions booked.", icon=":material/event_busy:")
        st.page_link("views/student_book.py", label="Book a session", icon=":material/add:")
    action = st.session_state.get(ACTION)
    for s in upcoming:
        sid = str(s["id"])
        their_zone = student.mentor_zone(s)
        with st.container(border=True):
            info, buttons = st.columns([3, 2])
            info.markdown(f"**{fmt.when(s['starts_at'], zone)}** with {student.mentor_name(s)}")
            info.caption(f"For your mentor: {fmt.when(s['starts_at'], their_zone)}")
            url = student.call_url(sid)
            j, r, c = buttons.columns(3)
            if url:
                j.link_button("Join", url, key=f"join_{sid}", icon=":material/videocam:")
            r.button("Reschedule", key=f"reschedule_{sid}", on_click=choose,
                     args=("reschedule", sid))  # fmt: skip
            c.button("Cancel", key=f"cancel_{sid}", on_click=choose, args=("cancel", sid))
            if action and action[1] == sid:
                if action[0] == "cancel":
                    cancel_panel(s)
                else:
                    reschedule_panel(s)
    if upcoming:
        st.caption("The call opens 10 minutes before the start.")

with history_tab:
    past = student.sessions(upcoming=False)
    if not past:
        st.info("No past sessions yet: they show here once held or canceled.")
    else:
        st.dataframe(
            [
                {
                    f"Starts ({zone})": fmt.when(s["starts_at"], zone, named=False),
                    "Mentor": student.mentor_name(s),
                    "Status": student.STATUS.get(str(s["status"]), str(s["status"])),
                    "Notes": s.get("notes") or s.get("cancel_reason") or "",
                    "Recording": s.get("recording_url"),
                }
                for s in past
            ],
            hide_index=True,
            width="stretch",
            column_config={"Recording": st.column_config.LinkColumn("Recording")},
        )
        if len(past) >= 200:
            st.caption("The newest 200 sessions.")
