"""The mentor's availability and calendar: time zone and booking settings, working hours (an
editor: ranges per weekday), taking new students, and Google Calendar (connected or not, its
sync, connect, disconnect, which calendars count as busy and which receives sessions)."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import streamlit as st

from dashboards import fmt, mentor, ui
from dashboards.api import ApiError

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
STEPS = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60 + 1, 15)]

st.title("Availability and calendar")
me = mentor.mentor_row()
mentor.flash()
uid = mentor.me_id()
zone = ui.me().zone


def save(values: dict[str, Any], message: str) -> None:
    with ui.shown_errors("Not saved"):
        ui.api().update("mentors", {"id": uid}, values)
        st.session_state.pop("wh_rows", None)
        mentor.done(message)


# --- booking settings -----------------------------------------------------------------------
st.subheader("Booking")
zones = sorted(available_timezones())
with st.form("booking_form"):
    half = st.columns(2)
    tz = half[0].selectbox(
        "Time zone (your working hours are in it)",
        zones,
        index=zones.index(me["time_zone"]) if me["time_zone"] in zones else 0,
        key="set_time_zone",
    )
    accepting = half[1].toggle(
        "Taking new students", value=bool(me["accepting_students"]), key="set_accepting",
        help="Off: nobody new can buy a pack; your students can still renew.",
    )  # fmt: skip
    cols = st.columns(5)
    fields = {
        "slot_minutes": cols[0].number_input("Session length (min)", value=int(me["slot_minutes"]), step=15, key="set_slot"),
        "slot_grid_minutes": cols[1].number_input("Start every (min)", value=int(me["slot_grid_minutes"]), step=5, key="set_grid"),
        "buffer_minutes": cols[2].number_input("Break after (min)", value=int(me["buffer_minutes"]), step=5, key="set_buffer"),
        "min_notice_minutes": cols[3].number_input("Notice (min)", value=int(me["min_notice_minutes"]), step=60, key="set_notice"),
        "booking_horizon_days": cols[4].number_input("Book ahead (days)", value=int(me["booking_horizon_days"]), step=1, key="set_horizon"),
    }  # fmt: skip
    if st.form_submit_button("Save booking settings", key="settings_save", type="primary"):
        values: dict[str, Any] = {k: int(v) for k, v in fields.items() if int(v) != me[k]}
        if tz != me["time_zone"]:
            values["time_zone"] = tz
        if accepting != me["accepting_students"]:
            values["accepting_students"] = accepting
        if values:
            save(values, "Saved your booking settings.")
        else:
            st.info("Nothing changed.")
st.caption(
    "Students book sessions of this length, starting on this grid (counted from midnight), "
    "at least the notice ahead and at most the days ahead; the break keeps time free after each."
)

# --- working hours --------------------------------------------------------------------------
st.subheader("Working hours")
st.caption(f"In {me['time_zone']}. A day may have several ranges; a day without one is off.")
if "wh_rows" not in st.session_state:
    st.session_state["wh_rows"] = [
        {"rid": i, "weekday": int(w["weekday"]), "start": w["start"], "end": w["end"]}
        for i, w in enumerate(sorted(me["working_hours"], key=lambda w: (w["weekday"], w["start"])))
    ]
rows: list[dict[str, Any]] = st.session_state["wh_rows"]


def options(value: str) -> list[str]:
    return STEPS if value in STEPS else sorted([*STEPS, value])


WIDTHS = [1.2, 1.2, 1.2, 1, 1]
for day, name in enumerate(WEEKDAYS, start=1):
    mine: list[dict[str, Any] | None] = [r for r in rows if r["weekday"] == day]
    lines = mine or [None]
    for i, r in enumerate(lines):
        line = st.columns(WIDTHS, vertical_alignment="center")
        line[0].markdown(f"**{name}**" if i == 0 else "")
        if r is None:
            line[1].caption("off")
        else:
            rid = r["rid"]
            for col, field, text in ((line[1], "start", "From"), (line[2], "end", "To")):
                col.selectbox(
                    f"{text} ({name})",
                    options(r[field]),
                    index=options(r[field]).index(r[field]),
                    key=f"wh_{field}_{rid}",
                    label_visibility="collapsed",
                )
            if line[3].button("Remove", key=f"wh_remove_{rid}", icon=":material/delete:"):
                rows.remove(r)
                st.rerun()
        if i == len(lines) - 1 and line[4].button(
            "Add hours", key=f"wh_add_{day}", icon=":material/add:"
        ):
            rid = max([x["rid"] for x in rows], default=-1) + 1
            rows.append({"rid": rid, "weekday": day, "start": "09:00", "end": "17:00"})
            st.rerun()

if st.button("Save working hours", key="wh_save", type="primary"):
    hours = [
        {
            "weekday": r["weekday"],
            "start": st.session_state.get(f"wh_start_{r['rid']}", r["start"]),
            "end": st.session_state.get(f"wh_end_{r['rid']}", r["end"]),
        }
        for r in rows
    ]
    hours.sort(key=lambda w: (w["weekday"], w["start"]))
    save({"working_hours": hours}, "Saved your working hours.")

# --- Google Calendar ------------------------------------------------------------------------
st.subheader("Google Calendar")
sync: list[dict[str, Any]] = []
with ui.shown_errors("Google Calendar"):
    sync = ui.read(("mentor", "gcal", uid), lambda: mentor.rpc_rows("my_calendar_sync"))
state = sync[0] if sync else {"connected": False}


def connect(label: str) -> None:
    if st.button(label, key="gcal_connect", icon=":material/link:"):
        with ui.shown_errors("Google Calendar"):
            answer = ui.api().service("GET", "/oauth/google/start")
            st.session_state["gcal_url"] = str(answer["url"])
    url = st.session_state.get("gcal_url")
    if url:
        st.link_button("Continue at Google", url, icon=":material/open_in_new:")
        st.caption("Google asks which account and what to allow, then sends you back.")


if not state["connected"]:
    st.info(
        "Not connected. Connect your Google Calendar: its busy times close your slots, and your "
        "sessions appear in it.",
        icon=":material/calendar_month:",
    )
    connect("Connect Google Calendar")
    st.stop()

st.markdown(f"Connected since {fmt.when(state['connected_at'], zone)}.")
synced = fmt.when(state["last_synced_at"], zone) if state["last_synced_at"] else "never"
if state["revoked_at"]:
    st.error(
        f"Google stopped accepting the connection on {fmt.when(state['revoked_at'], zone)}: "
        "students cannot book you until you reconnect (or disconnect).",
        icon=":material/link_off:",
    )
elif state["closed_because"]:
    st.warning(
        f"Students cannot book you right now: {state['closed_because']}. Last synced: {synced}.",
        icon=":material/sync_problem:",
    )
else:
    st.success(f"In sync. Last synced: {synced}.", icon=":material/sync:")
if state["failures"]:
    st.caption(f"{state['failures']} failed sync(s) in a row; last error: {state['last_error']}")
connect("Reconnect Google Calendar")

calendars = ui.rows_or_stop(
    ("mentor", "calendars", uid),
    lambda: ui.api().rows(
        "mentor_calendars", {"mentor_id": f"eq.{uid}", "order": "is_primary.desc,summary"}
    ),
)
title = {str(c["calendar_id"]): f"{c['summary'] or c['calendar_id']}" for c in calendars}
writable = [str(c["calendar_id"]) for c in calendars if c["access_role"] in ("writer", "owner")]
if calendars:
    with st.form("gcal_form"):
        busy = st.multiselect(
            "Calendars whose events make you busy",
            list(title),
            default=[str(c["calendar_id"]) for c in calendars if c["counts_as_busy"]],
            format_func=title.__getitem__,
            key="gcal_busy",
        )
        current = next((str(c["calendar_id"]) for c in calendars if c["receives_events"]), None)
        events = st.selectbox(
            "Calendar your sessions are written into",
            writable,
            index=writable.index(current) if current in writable else 0,
            format_func=title.__getitem__,
            key="gcal_events",
        )
        if st.form_submit_button("Save calendars", key="gcal_choose"):
            with ui.shown_errors("Calendars"):
                ui.api().rpc(
                    "choose_google_calendars",
                    {"busy_calendar_ids": busy, "events_calendar_id": events},
                )
                mentor.done("Saved your calendars.")

if not st.session_state.get("gcal_disconnecting"):
    if st.button("Disconnect Google Calendar…", key="gcal_disconnect", icon=":material/link_off:"):
        st.session_state["gcal_disconnecting"] = True
        st.rerun()
else:
    st.warning(
        "Your calendars' busy times stop closing slots, and sessions stop going into Google."
    )
    if st.button("Confirm: disconnect", key="gcal_disconnect_confirm", type="primary"):
        st.session_state.pop("gcal_disconnecting", None)
        with ui.shown_errors("Disconnect"):
            try:
                answer = ui.api().service("POST", "/oauth/google/disconnect") or {}
                message = (
                    "Disconnected; the access is revoked at Google."
                    if answer.get("revoked_at_google")
                    else "Disconnected. Google did not take the revocation yet: it stays queued."
                )
            except ApiError as e:
                if e.status != 503:
                    raise
                ui.api().rpc("disconnect_google")
                message = "Disconnected. The services could not revoke the access at Google now: it stays queued."
            mentor.done(message)
