"""My mentors: each mentor with sessions left of those bought, the last and next session, the pack's
expiry and the seat; the one-session-left alert with its renew button; stats; quick actions; a
reminder to link Discord."""

from __future__ import annotations

import streamlit as st

from dashboards import fmt, student, ui

me = ui.me()
zone = me.zone
st.title("My mentors")
rows = student.mentors()
upcoming = student.sessions(upcoming=True)
profile = student.profile()

if not profile.get("discord_user_id"):
    st.info(
        "Link your Discord account to get your session reminders and changes as direct "
        "messages too (email always comes).",
        icon=":material/forum:",
    )
    st.page_link("views/account.py", label="Link Discord in My account", icon=":material/link:")

if not rows:
    st.info(
        "You have no mentors yet. Find a mentor and buy a session pack; your mentor, your "
        "sessions left and your bookings then show here.",
        icon=":material/school:",
    )
    st.page_link("views/student_catalog.py", label="Find a mentor", icon=":material/person_search:")
    st.stop()

left = sum(int(r["sessions_remaining"]) for r in rows)
done = sum(int(r["sessions_completed"]) for r in rows)
active = sum(1 for r in rows if r["seat_status"] in ("active", "grace", "hold"))
a, b, c, d = st.columns(4)
a.metric("Sessions left", left)
b.metric("Upcoming sessions", len(upcoming))
c.metric("Completed sessions", done)
d.metric("Active mentors", active)

for r in rows:
    if r["one_session_left"]:
        with st.container(border=True):
            st.warning(
                f"One session left with {r['mentor_name']}, and none booked. Book it, and renew "
                "your pack to keep your seat: after your last session the seat is held for you "
                "for a grace period only, then it goes to someone else.",
                icon=":material/hourglass_bottom:",
            )
            student.renew(f"renew_{r['mentor_id']}", r["renew_product_id"])

st.subheader("Quick actions")
q1, q2, q3, q4 = st.columns(4)
q1.page_link("views/student_book.py", label="Book a session", icon=":material/event_available:")
q2.page_link("views/student_sessions.py", label="My sessions", icon=":material/event:")
q3.page_link("views/student_messages.py", label="Messages", icon=":material/mail:")
q4.page_link("views/account.py", label="My account", icon=":material/person:")

st.subheader("Mentors")
st.caption(f"Your {fmt.zone_note(zone)}.")
for r in rows:
    mentor = str(r["mentor_id"])
    with st.container(border=True):
        head, action = st.columns([4, 1])
        head.markdown(f"### {r['mentor_name']}")
        head.caption(f"Works in {r['mentor_time_zone']}")
        total = int(r["sessions_total"])
        remaining = int(r["sessions_remaining"])
        if action.button(
            "Book",
            key=f"book_{mentor}",
            disabled=remaining == 0,
            icon=":material/event_available:",
            help=None if remaining else "No sessions left: renew your pack to book again.",
        ):
            st.session_state["book_for_mentor"] = mentor
            st.switch_page("views/student_book.py")
        st.markdown(f"**{remaining} of {total} sessions left**")
        st.progress(min(remaining / total, 1.0) if total else 0.0)
        one, two, three = st.columns(3)
        upcoming_at = r["next_session_at"]
        held_at = r["last_session_at"]
        one.markdown(
            f"**Next session**  \n{fmt.when(upcoming_at, zone) if upcoming_at else 'none booked'}"
        )
        one.markdown(f"**Last session**  \n{fmt.when(held_at, zone) if held_at else 'none yet'}")
        two.markdown(f"**Completed**  \n{r['sessions_completed']}")
        pack = str(r["current_pack_status"] or "-")
        ends = fmt.when(r["current_pack_expires_at"], zone)
        # "expired Tue 1 Dec": the status says it; "active, expires ...": when it will
        two.markdown(
            f"**Pack**  \n{pack} {ends}"
            if pack == "expired"
            else f"**Pack**  \n{pack}, expires {ends}"
        )
        seat = student.SEAT.get(str(r["seat_status"]), str(r["seat_status"]))
        if r["seat_status"] == "grace":
            seat += f" until {fmt.when(r['seat_grace_ends_at'], zone)}"
        three.markdown(f"**Seat**  \n{seat}")
        if r["seat_status"] == "grace" and not r["one_session_left"]:
            st.warning(
                f"Your seat with {r['mentor_name']} is in its grace period: renew before "
                f"{fmt.when(r['seat_grace_ends_at'], zone)} to keep it.",
                icon=":material/timer:",
            )
            student.renew(f"renew_grace_{mentor}", r["renew_product_id"])
