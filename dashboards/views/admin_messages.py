"""Admin: the messages the dispatcher gave up on (failed), newest first, and sending one again
(retry_message: one more attempt now)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards import admin, fmt, ui
from dashboards.api import ApiError

PER_PAGE = 50

me = admin.admin()
zone = me.zone
st.title("Failed messages")
st.caption(
    "Messages the dispatcher gave up on (a permanent refusal, or every attempt failed). A retry "
    f"sends one again once, now. {admin.zone_sentence(zone)}"
)

done = st.session_state.pop("messages_done", None)
if done:
    st.success(done, icon=":material/check_circle:")

page_no: int = st.session_state.setdefault("messages_page", 0)


def fetch(offset: int) -> tuple[list[dict[str, Any]], int | None]:
    return ui.api().page(
        "notifications",
        {
            "select": "id,kind,channel,recipient_id,attempts,last_error,send_after,updated_at,session_id",
            "status": "eq.failed",
            "order": "updated_at.desc,id.desc",
        },
        offset=offset,
        limit=PER_PAGE,
    )


try:
    rows, total = ui.read(("admin_messages", page_no), lambda: fetch(page_no * PER_PAGE))
except ApiError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()

if not rows:
    st.success("No failed messages.")
    st.stop()

who = admin.names({str(r["recipient_id"]) for r in rows})
first = page_no * PER_PAGE + 1
st.caption(f"Messages {first} to {first + len(rows) - 1} of {total}")
st.dataframe(
    [
        {
            "Id": r["id"],
            f"Failed ({zone})": fmt.when(r["updated_at"], zone, named=False),
            "Kind": r["kind"],
            "Channel": r["channel"],
            "Recipient": who.get(str(r["recipient_id"]), str(r["recipient_id"])),
            "Attempts": r["attempts"],
            "Last error": r["last_error"] or "",
            f"Queued for ({zone})": fmt.when(r["send_after"], zone, named=False),
        }
        for r in rows
    ],
    hide_index=True,
    width="stretch",
    key="messages_table",
)
prev_col, next_col, _ = st.columns([1, 1, 6])
if prev_col.button("Previous", key="messages_prev", disabled=page_no == 0):
    st.session_state["messages_page"] = page_no - 1
    st.rerun()
if next_col.button(
    "Next", key="messages_next", disabled=total is None or first + len(rows) > total
):
    st.session_state["messages_page"] = page_no + 1
    st.rerun()

st.subheader("Send one again")
by_id = {r["id"]: r for r in rows}
picked = st.selectbox(
    "Message",
    list(by_id),
    format_func=lambda i: (
        f"#{i} {by_id[i]['kind']} by {by_id[i]['channel']} to "
        f"{who.get(str(by_id[i]['recipient_id']), '?')}"
    ),
    key="messages_pick",
)
if st.button("Retry this message", key="messages_retry", icon=":material/send:"):
    with ui.shown_errors("Not retried"):
        ui.api().rpc("retry_message", {"message_id": str(picked)})
        ui.changed()
        st.session_state["messages_done"] = (
            f"Message #{picked} is queued again: the dispatcher sends it within a few seconds."
        )
        st.rerun()
