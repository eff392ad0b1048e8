"""What the student's pages share: their mentors, packs and sessions (read with their token: RLS
decides, and every read names the student too), the week of free slots with its navigator and a
slot picker, the renew button (a Stripe checkout on the services) and the call page's link."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from dashboards import fmt, ui
from dashboards.api import ApiError

Row = dict[str, Any]
STATUS = {
    "scheduled": "Scheduled",
    "completed": "Completed",
    "canceled": "Canceled (credit back)",
    "late_canceled": "Late cancel (credit used)",
    "student_no_show": "No-show (you)",
    "mentor_no_show": "No-show (mentor; credit back)",
}
SEAT = {"hold": "on hold", "active": "active", "grace": "in grace", "released": "released"}
SESSION_COLUMNS = (
    "id,pack_id,mentor_id,status,starts_at,ends_at,canceled_at,cancel_reason,notes,recording_url,"
    "mentor(public_name,time_zone)"
)


def clock_now() -> dt.datetime:
    """The rules' clock (`ui.now()`); a refusal is shown and the page stops there."""
    try:
        return ui.now()
    except ApiError as e:
        st.error(str(e), icon=":material/error:")
        st.stop()


def mentors() -> list[Row]:
    """`my_mentors()`: one row per mentor the student ever had a pack with, next session first."""
    me = ui.me()
    return ui.rows_or_stop(
        ("student", "my_mentors", me.user_id),
        lambda: list(ui.api().rpc("my_mentors", read=True) or []),
    )


def live_packs() -> list[Row]:
    """The student's packs that can still be booked from: active, not expired, sessions left."""
    me = ui.me()
    now = clock_now()
    params = {
        "select": "id,mentor_id,remaining_sessions,sessions_total,expires_at,"
        "mentor(public_name,time_zone)",
        "student_id": f"eq.{me.user_id}",
        "status": "eq.active",
        "remaining_sessions": "gt.0",
        "expires_at": f"gt.{now.isoformat()}",
        "order": "expires_at.asc,id",
    }
    return ui.rows_or_stop(
        ("student", "live_packs", me.user_id, now.isoformat()),
        lambda: ui.api().rows("session_packs", params),
    )


def sessions(*, upcoming: bool, limit: int = 200) -> list[Row]:
    """The student's sessions: scheduled ones not over yet (soonest first), or the rest (newest
    first): held, canceled, no-shows, and scheduled ones whose time has passed."""
    me = ui.me()
    now = clock_now().isoformat()
    params = {"select": SESSION_COLUMNS, "student_id": f"eq.{me.user_id}", "limit": str(limit)}
    if upcoming:
        params |= {"status": "eq.scheduled", "ends_at": f"gt.{now}", "order": "starts_at.asc,id"}
    else:
        params |= {
            "or": f"(status.neq.scheduled,ends_at.lte.{now})",
            "order": "starts_at.desc,id",
        }
    return ui.rows_or_stop(
        ("student", "sessions", me.user_id, upcoming, limit, now),
        lambda: ui.api().rows("sessions", params),
    )


def profile() -> Row:
    """The signed-in person's own profile row."""
    me = ui.me()
    rows = ui.rows_or_stop(
        ("account", "profile", me.user_id),
        lambda: ui.api().rows(
            "profiles",
            {"select": "id,email,display_name,time_zone,discord_user_id", "id": f"eq.{me.user_id}"},
        ),
    )
    return rows[0] if rows else {}


def mentor_name(row: Row) -> str:
    mentor = row.get("mentor") or {}
    return str(mentor.get("public_name") or "your mentor")


def mentor_zone(row: Row) -> str:
    mentor = row.get("mentor") or {}
    return str(mentor.get("time_zone") or "UTC")


def short(value: str | dt.datetime | None, zone: str) -> str:
    """ "15:00" in `zone`."""
    t = fmt.instant(value)
    return "-" if t is None else t.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def call_url(session_id: str) -> str | None:
    """The video call page for a session, the person's token in its fragment (README: "The video
    call page"); None without the services' address."""
    base = ui.settings().dashboards_services_url
    if not base:
        return None
    return f"{base}/video/{session_id}#access_token={ui.me().access_token}"


def renew(key: str, product_id: str | None) -> None:
    """The renew button: a Stripe checkout for the pack's product."""
    if not product_id:
        st.caption("This pack is no longer sold: ask your mentor which pack to buy next.")
        return
    checkout(key, product_id, "Renew with Stripe", ":material/autorenew:")


def checkout(key: str, product_id: str, label: str, icon: str, area: Any = None) -> None:
    """A button that starts a Stripe checkout for the product (create_order on the services): the
    answer's link to pay, or the services' refusal as it is, in `area` (a container; default
    where the button is)."""
    result_key = f"{key}_result"
    if st.button(label, key=key, type="primary", icon=icon):
        st.session_state.pop(result_key, None)
        try:
            answer = ui.api().service("POST", "/checkout/stripe", {"product_id": product_id})
            st.session_state[result_key] = ("ok", answer)
        except ApiError as e:
            st.session_state[result_key] = ("error", str(e))
    result = st.session_state.get(result_key)
    if result is None:
        return
    out = area if area is not None else st
    kind, value = result
    if kind == "error":
        out.error(f"The checkout could not start: {value}", icon=":material/error:")
        return
    amount = fmt.money(value.get("amount_cents"), value.get("currency"))
    until = fmt.when(value.get("expires_at"), ui.me().zone)
    out.success(f"Your checkout is ready: {amount}, open until {until}.")
    out.link_button("Pay with Stripe", str(value.get("url")), key=f"{key}_pay", type="primary")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def week_start(now: dt.datetime, zone: str, offset: int) -> dt.datetime:
    """Monday 00:00 in `zone` of the week `offset` weeks after the one holding `now`."""
    local = now.astimezone(ZoneInfo(zone)).date()
    monday = local - dt.timedelta(days=local.weekday()) + dt.timedelta(weeks=offset)
    return dt.datetime.combine(monday, dt.time(), tzinfo=ZoneInfo(zone))


def week_slots(mentor_id: str, start: dt.datetime) -> list[Row]:
    """`mentor_availability` for the 7 days from `start` (the rules decide what is free)."""
    end = (start + dt.timedelta(days=7)).astimezone(dt.UTC)
    args = {"mentor_id": mentor_id, "from_at": start.isoformat(), "to_at": end.isoformat()}
    return ui.rows_or_stop(
        ("student", "slots", mentor_id, start.isoformat()),
        lambda: list(ui.api().rpc("mentor_availability", args, read=True) or []),
    )


def week_grid(by_day: dict[str, list[Row]], zone: str, their_zone: str) -> list[dict[str, str]]:
    """One row per time of day (the student's zone), one column per day; a free slot's cell holds
    the mentor's day and time."""
    times = sorted({short(s["starts_at"], zone) for slots in by_day.values() for s in slots})
    rows = []
    for t in times:
        row = {f"Your time ({zone})": t}
        for d, slots in by_day.items():
            free = [s for s in slots if short(s["starts_at"], zone) == t]
            theirs = fmt.instant(free[0]["starts_at"]) if free else None
            row[d] = (
                ""
                if theirs is None
                else theirs.astimezone(ZoneInfo(their_zone)).strftime("%a %H:%M")
            )
        rows.append(row)
    return rows


def pick_slot(prefix: str, mentor_id: str, their_zone: str) -> Row | None:
    """A week of the mentor's free slots in the student's zone (the mentor's beside), a week
    navigator, and the slot the student picked (None until they pick one)."""
    zone = ui.me().zone
    week_key = f"{prefix}_week"

    def move(to: int | None) -> None:
        st.session_state[week_key] = 0 if to is None else st.session_state.get(week_key, 0) + to

    offset = int(st.session_state.get(week_key, 0))
    prev, this, nxt = st.columns([1, 1, 1])
    prev.button("Previous week", key=f"{prefix}_prev", disabled=offset <= 0, on_click=move,
                args=(-1,), icon=":material/chevron_left:")  # fmt: skip
    this.button("This week", key=f"{prefix}_this", disabled=offset == 0, on_click=move,
                args=(None,))  # fmt: skip
    nxt.button("Next week", key=f"{prefix}_next", on_click=move, args=(1,),
               icon=":material/chevron_right:")  # fmt: skip
    start = week_start(clock_now(), zone, offset)
    last = start + dt.timedelta(days=6)
    st.markdown(f"**Week of {fmt.day(start, zone)} to {fmt.day(last, zone)}**")
    st.caption(f"Your {fmt.zone_note(zone)}; the mentor's times in {their_zone}.")
    slots = week_slots(mentor_id, start)
    if not slots:
        st.info("No free slots this week: try the next week.", icon=":material/event_busy:")
        return None
    by_day: dict[str, list[Row]] = {}
    for slot in slots:
        by_day.setdefault(fmt.day(slot["starts_at"], zone), []).append(slot)
    grid = week_grid(by_day, zone, their_zone)
    height = min(35 * (len(grid) + 1) + 3, 720)
    st.dataframe(grid, hide_index=True, width="stretch", height=height)
    st.caption(f"Each free slot shows the mentor's day and time in {their_zone}.")
    day = st.pills(
        "Day", list(by_day), key=f"{prefix}_day_{offset}",
        format_func=lambda d: f"{d} ({len(by_day[d])})",
    )  # fmt: skip
    if day is None:
        st.caption("Choose a day, then a time.")
        return None
    by_start = {str(s["starts_at"]): s for s in by_day[str(day)]}
    chosen = st.pills(
        "Time",
        list(by_start),
        key=f"{prefix}_slot_{offset}_{day}",
        format_func=lambda t: f"{short(t, zone)} ({short(t, their_zone)} theirs)",
    )
    return None if chosen is None else by_start[str(chosen)]


def forget_pick(prefix: str) -> None:
    """Clears a slot picker's choice (after its slot was booked or moved to)."""
    for key in list(st.session_state):
        if str(key).startswith((f"{prefix}_day_", f"{prefix}_slot_")):
            del st.session_state[key]


def slot_summary(slot: Row, their_zone: str) -> str:
    zone = ui.me().zone
    return (
        f"{fmt.when(slot['starts_at'], zone)} to {short(slot['ends_at'], zone)}; "
        f"for your mentor {fmt.when(slot['starts_at'], their_zone)}"
    )
