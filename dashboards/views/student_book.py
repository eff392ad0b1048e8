"""Book a session: one of my mentors (those of my packs with sessions left), a week of their free
slots in my time zone (theirs beside), and the slot booked with `book_session` from the pack with
sessions left that expires first (and still covers the slot)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboards import fmt, student, ui
from dashboards.api import ApiError

me = ui.me()
zone = me.zone
st.title("Book a session")

done = st.session_state.pop("book_done", None)
if done:
    st.success(done, icon=":material/event_available:")
    st.page_link(
        "views/student_sessions.py", label="See it in My sessions", icon=":material/event:"
    )

packs = student.live_packs()
if not packs:
    st.info(
        "You have no sessions left to book: renew a pack from My mentors (or find a mentor "
        "and buy one), then come back here.",
        icon=":material/event_busy:",
    )
    st.page_link("views/student_home.py", label="My mentors", icon=":material/groups:")
    st.stop()

names: dict[str, str] = {}
zones: dict[str, str] = {}
left: dict[str, int] = {}
for p in packs:
    m = str(p["mentor_id"])
    names[m] = student.mentor_name(p)
    zones[m] = student.mentor_zone(p)
    left[m] = left.get(m, 0) + int(p["remaining_sessions"])
choices = list(names)
wanted = st.session_state.pop("book_for_mentor", None)
if wanted in choices:
    st.session_state["book_mentor"] = wanted
mentor = st.selectbox(
    "Mentor",
    choices,
    key="book_mentor",
    on_change=student.forget_pick,
    args=("book",),
    format_func=lambda m: f"{names[m]} ({left[m]} session{'s' if left[m] != 1 else ''} left)",
)
if mentor is None:
    st.stop()
mentor = str(mentor)
their_zone = zones[mentor]

slot = student.pick_slot("book", mentor, their_zone)
if slot is None:
    st.stop()

ends = dt.datetime.fromisoformat(str(slot["ends_at"]))
mine = [p for p in packs if str(p["mentor_id"]) == mentor]
# The pack that expires first and still covers the slot (else the first: the rules then say why).
fits = [p for p in mine if dt.datetime.fromisoformat(str(p["expires_at"])) >= ends]
pack = (fits or mine)[0]
with st.container(border=True):
    st.markdown(f"**{names[mentor]}**: {student.slot_summary(slot, their_zone)}")
    st.caption(
        f"Uses 1 of the {pack['remaining_sessions']} session(s) left on your pack that "
        f"expires {fmt.when(pack['expires_at'], zone)}."
    )
    if st.button("Book this session", key="book_confirm", type="primary",
                 icon=":material/check:"):  # fmt: skip
        try:
            booked = ui.api().rpc(
                "book_session", {"pack_id": str(pack["id"]), "starts_at": str(slot["starts_at"])}
            )
        except ApiError as e:
            ui.changed()
            st.error(f"Not booked: {e}", icon=":material/error:")
        else:
            ui.changed()
            when = fmt.when(dt.datetime.fromisoformat(str(booked["starts_at"])), zone)
            st.session_state["book_done"] = f"Booked with {names[mentor]}: {when}."
            student.forget_pick("book")
            st.rerun()
