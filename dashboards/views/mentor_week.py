"""The mentor's week: working hours and sessions on a grid of the week's days and hours, in the
mentor's own time zone (the one their hours are written in), with a week navigator."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from dashboards import fmt, mentor

SHOWN = ("scheduled", "completed", "student_no_show", "mentor_no_show")

st.title("My week")
me = mentor.mentor_row()
zone = str(me["time_zone"])
tz = ZoneInfo(zone)
today = mentor.now().astimezone(tz).date()
offset: int = st.session_state.setdefault("week_offset", 0)
monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
days = [monday + dt.timedelta(days=i) for i in range(7)]
week_start = dt.datetime.combine(days[0], dt.time(), tz)
week_end = dt.datetime.combine(days[6] + dt.timedelta(days=1), dt.time(), tz)

nav = st.columns([1, 1, 1, 3])
if nav[0].button("Previous week", key="week_prev", icon=":material/chevron_left:"):
    st.session_state["week_offset"] = offset - 1
    st.rerun()
if nav[1].button("This week", key="week_this", disabled=offset == 0):
    st.session_state["week_offset"] = 0
    st.rerun()
if nav[2].button("Next week", key="week_next", icon=":material/chevron_right:"):
    st.session_state["week_offset"] = offset + 1
    st.rerun()
nav[3].markdown(
    f"**{fmt.day(week_start, zone)}** to **{fmt.day(week_end - dt.timedelta(days=1), zone)}**"
)
st.caption(f"In your zone, {zone}: the one your working hours are in.")

sessions = [s for s in mentor.sessions_between(week_start, week_end) if s["status"] in SHOWN]


def minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def local(value: Any) -> dt.datetime:
    t = fmt.instant(value)
    assert t is not None
    return t.astimezone(tz)


# Which hours to show: the working hours and the sessions of the week, 08-18 at least.
hours = [(minutes(w["start"]), minutes(w["end"])) for w in me["working_hours"]]
first = min([8 * 60, *(a for a, _ in hours)] + [local(s["starts_at"]).hour * 60 for s in sessions])
last = max(
    [18 * 60, *(b for _, b in hours)] + [local(s["ends_at"]).hour * 60 + 60 for s in sessions]
)
rows = list(range(first // 60, min(24, (last + 59) // 60)))
columns = [f"{d:%a} {d.day} {d:%b}" for d in days]
grid = pd.DataFrame("", index=[f"{h:02d}:00" for h in rows], columns=columns)
kind = pd.DataFrame("", index=grid.index, columns=columns)

for w in me["working_hours"]:
    a, b = minutes(w["start"]), minutes(w["end"])
    col = columns[int(w["weekday"]) - 1]
    for h in rows:
        if a < (h + 1) * 60 and b > h * 60:
            grid.loc[f"{h:02d}:00", col] = "working"
            kind.loc[f"{h:02d}:00", col] = "work"

for s in sessions:
    start, stop = local(s["starts_at"]), local(s["ends_at"])
    col = columns[(start.date() - monday).days]
    text = f"{start:%H:%M} {mentor.student_name(s)}"
    if s["status"] != "scheduled":
        text += f" ({mentor.STATUS[str(s['status'])]})"
    a = start.hour * 60 + start.minute
    b = a + int((stop - start).total_seconds() // 60)
    for h in rows:
        if a < (h + 1) * 60 and b > h * 60:
            cell = f"{h:02d}:00"
            taken = kind.loc[cell, col] == "session"
            grid.loc[cell, col] = f"{grid.loc[cell, col]}; {text}" if taken else text
            kind.loc[cell, col] = "session"

COLOURS = {
    "work": "background-color: #e8f5e9",
    "session": "background-color: #bbdefb; font-weight: 600",
}
styled = grid.style.apply(lambda _: kind.replace(COLOURS | {"": ""}), axis=None)
st.dataframe(
    styled,
    height=35 * (len(rows) + 1) + 3,
    key="week_grid",
)
st.caption("Green: your working hours. Blue: sessions.")

st.subheader(f"Sessions this week ({len(sessions)})")
if not sessions:
    st.caption("No sessions this week.")
for s in sessions:
    start, stop = local(s["starts_at"]), local(s["ends_at"])
    status = mentor.STATUS[str(s["status"])]
    st.markdown(
        f"- {start:%a} {start.day} {start:%b}, {start:%H:%M}-{stop:%H:%M} {start:%Z} "
        f"· {mentor.student_name(s)} · {status}"
    )
