"""Admin: the audit log, newest first, filtered by action, actor and dates (days in the admin's
zone), page by page with the database's count."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from dashboards import admin, fmt, ui
from dashboards.api import ApiError

PER_PAGE = 50

me = admin.admin()
zone = me.zone
st.title("Audit log")
st.caption(f"Every change of state and every admin action; days and {fmt.zone_note(zone)}.")

today = admin.now().astimezone(ZoneInfo(zone)).date()
a, b, c = st.columns([2, 2, 3])
action = a.text_input(
    "Action contains", key="audit_action", placeholder="e.g. sessions_adjusted"
).strip()
actor = b.text_input("Actor (name or email)", key="audit_actor").strip()
dates = c.date_input(
    f"Days ({zone})",
    value=(today - dt.timedelta(days=30), today),
    max_value=today + dt.timedelta(days=1),
    key="audit_dates",
)
filters = (action, actor, tuple(dates) if isinstance(dates, tuple) else (dates,))
if st.session_state.get("audit_filters") != filters:
    st.session_state["audit_filters"] = filters
    st.session_state["audit_page"] = 0
page_no: int = st.session_state.setdefault("audit_page", 0)

params: dict[str, str] = {
    "select": "id,created_at,action,table_name,row_id,actor_id,old_values,new_values,reason",
    "order": "created_at.desc,id.desc",
}
if action:
    params["action"] = f"ilike.{admin.quoted('*' + action + '*')}"
span = filters[2]
if span:
    first_day, last_day = span[0], span[-1]
    params["and"] = (
        f"(created_at.gte.{admin.day_start(first_day, zone)},"
        f"created_at.lt.{admin.day_start(last_day + dt.timedelta(days=1), zone)})"
    )


def fetch() -> tuple[list[dict[str, Any]], int | None]:
    if actor:
        ids = admin.people_matching(actor)
        if not ids:
            return [], 0
        params["actor_id"] = f"in.({','.join(ids)})"
    return ui.api().page("audit_log", params, offset=page_no * PER_PAGE, limit=PER_PAGE)


try:
    rows, total = ui.read(("admin_audit", filters, page_no), fetch)
except ApiError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()

if not rows:
    st.info("No audit entries match these filters. Widen the days or clear a filter.")
    st.stop()

who = admin.names({str(r["actor_id"]) for r in rows if r["actor_id"]})


def change(r: dict[str, Any]) -> str:
    parts = []
    if r["old_values"]:
        parts.append(json.dumps(r["old_values"], ensure_ascii=False))
    if r["new_values"]:
        parts.append(json.dumps(r["new_values"], ensure_ascii=False))
    return " → ".join(parts)


first = page_no * PER_PAGE + 1
st.caption(f"Entries {first} to {first + len(rows) - 1} of {total}")
st.dataframe(
    [
        {
            f"When ({zone})": fmt.when(r["created_at"], zone, named=False),
            "Action": r["action"],
            "By": who.get(str(r["actor_id"]), str(r["actor_id"])) if r["actor_id"] else "the rules",
            "Row": r["row_id"] or "",
            "Change": change(r),
            "Reason": r["reason"] or "",
        }
        for r in rows
    ],
    hide_index=True,
    width="stretch",
    key="audit_table",
)
prev_col, next_col, _ = st.columns([1, 1, 6])
if prev_col.button("Previous", key="audit_prev", disabled=page_no == 0):
    st.session_state["audit_page"] = page_no - 1
    st.rerun()
if next_col.button("Next", key="audit_next", disabled=total is None or first + len(rows) > total):
    st.session_state["audit_page"] = page_no + 1
    st.rerun()
