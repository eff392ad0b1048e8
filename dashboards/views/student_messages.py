"""Messages: the student's own outbox rows (`notifications`, RLS: recipient = me), newest first,
with their kind, channel, status and when, in the student's zone; paged on the server."""

from __future__ import annotations

import streamlit as st

from dashboards import fmt, ui
from dashboards.api import ApiError

me = ui.me()
zone = me.zone
PAGE = 25
KINDS = {
    "pack_purchased": "Pack purchased",
    "session_booked": "Session booked",
    "session_rescheduled": "Session moved",
    "session_canceled": "Session canceled",
    "session_reminder_24h": "Reminder (a day before)",
    "session_reminder_1h": "Reminder (an hour before)",
    "renewal_reminder": "Renewal reminder",
    "one_session_left": "One session left",
    "grace_started": "Seat grace started",
    "grace_warning": "Seat grace ending",
    "seat_released": "Seat released",
    "refund_processed": "Refund processed",
    "payment_flagged": "Payment flagged",
    "delivery_failed": "Delivery failed",
    "calendar_disconnected": "Calendar disconnected",
    "calendar_event_changed": "Calendar event changed",
}
STATUSES = {
    "pending": "Waiting to send",
    "sending": "Sending",
    "sent": "Sent",
    "failed": "Failed",
    "voided": "Not sent (no longer needed)",
}

st.title("Messages")
st.caption(
    "What we sent you, or will send, by email and Discord. Reminders and renewal nudges can be "
    "turned off in My account; messages about your purchases, bookings, changes and your seat "
    f"always come. Your {fmt.zone_note(zone)}."
)
f1, f2 = st.columns(2)


def first_page() -> None:
    st.session_state.pop("messages_page", None)


kind = f1.selectbox(
    "Kind", ["", *KINDS], key="messages_kind", on_change=first_page,
    format_func=lambda k: KINDS.get(k, "All kinds"),
)  # fmt: skip
status = f2.selectbox(
    "Status", ["", *STATUSES], key="messages_status", on_change=first_page,
    format_func=lambda k: STATUSES.get(k, "Any status"),
)  # fmt: skip
params = {
    "select": "id,kind,channel,status,send_after,sent_at,created_at,voided_at",
    "recipient_id": f"eq.{me.user_id}",
    "order": "created_at.desc,id.desc",
}
if kind:
    params["kind"] = f"eq.{kind}"
if status:
    params["status"] = f"eq.{status}"
page = int(st.session_state.get("messages_page", 0))
key = ("student_messages", me.user_id, kind, status, page)
try:
    rows, total = ui.read(
        key, lambda: ui.api().page("notifications", params, offset=page * PAGE, limit=PAGE)
    )
except ApiError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()
if not rows and page == 0:
    st.info(
        "No messages yet: booking a session, a purchase or a reminder sends you one."
        if not (kind or status)
        else "No messages match: choose another kind or status."
    )
    st.stop()


def when(r: dict[str, object]) -> str:
    t = r.get("sent_at") or r.get("voided_at") or r.get("send_after")
    return fmt.when(str(t) if t else None, zone, named=False)


st.dataframe(
    [
        {
            "Message": KINDS.get(str(r["kind"]), str(r["kind"])),
            "Channel": "Email" if r["channel"] == "email" else "Discord",
            "Status": STATUSES.get(str(r["status"]), str(r["status"])),
            f"When ({zone})": when(r),
            f"Queued ({zone})": fmt.when(r["created_at"], zone, named=False),
        }
        for r in rows
    ],
    hide_index=True,
    width="stretch",
)
pages = max(1, -(-(total or 0) // PAGE))
prev, label, nxt = st.columns([1, 2, 1])
if prev.button("Newer", key="messages_prev", disabled=page == 0):
    st.session_state["messages_page"] = page - 1
    st.rerun()
label.caption(f"Page {page + 1} of {pages} ({total} messages)")
if nxt.button("Older", key="messages_next", disabled=page + 1 >= pages):
    st.session_state["messages_page"] = page + 1
    st.rerun()
