"""The mentor's overview: the numbers (students, seats, sessions), who is about to run out
(one session left: time to renew), the students with their sessions left, and the next sessions
with a link to join."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import streamlit as st

from dashboards import fmt, mentor, mentor_actions, ui

st.title("Overview")
me = mentor.mentor_row()
mentor.flash()
zone = ui.me().zone
now = mentor.now()
students = mentor.mentees()
scheduled = mentor.scheduled()
upcoming = [s for s in scheduled if fmt.instant(s["starts_at"]) > now]  # type: ignore[operator]
to_close = [s for s in scheduled if fmt.instant(s["starts_at"]) <= now]  # type: ignore[operator]
local = now.astimezone(ZoneInfo(zone))
month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
month = mentor.sessions_between(month_start, next_month)
completed = [s for s in month if s["status"] == "completed"]
booked = [s for s in month if s["status"] not in ("canceled", "late_canceled")]
active = [m for m in students if m["seat_status"] in ("active", "grace")]
renewals = [m for m in students if m["one_session_left"]]

st.caption(f"As of {fmt.when(now, zone)}.")
c = st.columns(5)
c[0].metric("Active students", len(active))
c[1].metric(
    "Free seats", f"{me['free_seats']} of {me['seat_capacity']}", help="Seats held count too."
)
c[2].metric("Upcoming sessions", len(upcoming))
c[3].metric(f"Sessions in {local:%B}", len(booked), help="Booked, held or missed; not canceled.")
c[4].metric(f"Completed in {local:%B}", len(completed))
if not me["accepting_students"]:
    st.info("You are not taking new students (renewals still go through).", icon=":material/block:")

flags = mentor.open_flags()
if flags or to_close:
    parts = []
    if to_close:
        parts.append(f"{len(to_close)} session(s) to close")
    if flags:
        parts.append(f"{len(flags)} session(s) changed in Google Calendar")
    st.warning(" and ".join(parts) + ".", icon=":material/pending_actions:")
    st.page_link("views/mentor_sessions.py", label="Go to Sessions", icon=":material/event:")

st.subheader("One session left")
if not renewals:
    st.caption("Nobody is down to their last session with none booked.")
for m in renewals:
    with st.container(border=True):
        st.markdown(
            f"**{m['student_name']}** has one session left and none booked: a good moment to "
            "suggest a new pack."
        )
        last = fmt.when(m["last_session_at"], zone) if m["last_session_at"] else "none yet"
        expires = fmt.day(m["current_pack_expires_at"], zone)
        renew = "" if m["renew_product_id"] else " The pack they bought is no longer sold."
        st.caption(f"Last session: {last}. Pack expires {expires}.{renew}")

st.subheader("Students")
if not students:
    st.caption("No students yet: they appear here once they buy one of your packs.")
else:
    seat = {"active": "active", "grace": "grace", "hold": "checking out", "released": "released"}
    table = [
        {
            "Student": m["student_name"],
            "Their zone": m["student_time_zone"],
            "Sessions left": m["sessions_remaining"],
            "Completed": f"{m['sessions_completed']} of {m['sessions_total']}",
            f"Last session ({zone})": fmt.when(m["last_session_at"], zone, named=False),
            f"Next session ({zone})": fmt.when(m["next_session_at"], zone, named=False),
            "Seat": seat.get(str(m["seat_status"]), str(m["seat_status"]))
            + (
                f" until {fmt.when(m['seat_grace_ends_at'], zone, named=False)}"
                if m["seat_grace_ends_at"]
                else ""
            ),
            "Pack": str(m["current_pack_status"]),
        }
        for m in students
    ]
    st.dataframe(table, hide_index=True, key="mentees_table")

st.subheader("Next sessions")
if not upcoming:
    st.caption("No upcoming sessions.")
for s in upcoming[:5]:
    with st.container(border=True):
        st.markdown(f"**{mentor.label(s, zone)}**")
        mentor_actions.join(s)
if len(upcoming) > 5:
    st.page_link("views/mentor_sessions.py", label="All upcoming sessions", icon=":material/event:")
