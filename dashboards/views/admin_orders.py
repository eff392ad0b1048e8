"""Admin: the orders that need an admin (flagged: paid but nothing granted) and the refunds, money
in each order's own currency."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards import admin, fmt, ui
from dashboards.api import ApiError

PER_PAGE = 50


def paged(name: str, table: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """One page of the read, newest first, counted by the database, with its navigation."""
    key = f"orders_{name}_page"
    page_no: int = st.session_state.setdefault(key, 0)
    try:
        rows, total = ui.read(
            ("admin_orders", name, page_no),
            lambda: ui.api().page(table, params, offset=page_no * PER_PAGE, limit=PER_PAGE),
        )
    except ApiError as e:
        st.error(str(e), icon=":material/error:")
        return []
    if rows:
        first = page_no * PER_PAGE + 1
        st.caption(f"{first} to {first + len(rows) - 1} of {total}")
    prev, nxt = st.columns(2)
    if prev.button("Newer", key=f"orders_{name}_prev", disabled=page_no == 0):
        st.session_state[key] = page_no - 1
        st.rerun()
    more = total is not None and (page_no + 1) * PER_PAGE < total
    if nxt.button("Older", key=f"orders_{name}_next", disabled=not more):
        st.session_state[key] = page_no + 1
        st.rerun()
    return rows


me = admin.admin()
zone = me.zone
st.title("Orders and refunds")
st.caption(
    "A flagged order was paid but granted nothing: the amount, currency or provider did not match "
    "the order, it was paid twice, or the mentor filled up after the seat hold ran out. Settle it "
    f"with the student at the provider (refund or a pack by hand). {admin.zone_sentence(zone)}"
)

flagged_tab, refunds_tab = st.tabs(["Flagged orders", "Refunds"])

with flagged_tab:
    flagged = paged(
        "flagged",
        "orders",
        {
            "select": "id,provider,amount_cents,currency,flagged_reason,created_at,expires_at,"
            "paid_at,updated_at,student(display_name),mentor(public_name)",
            "status": "eq.flagged",
            "order": "updated_at.desc,id",
        },
    )
    if not flagged:
        st.success("No flagged orders: every payment matched its order.")
    else:
        st.dataframe(
            [
                {
                    f"Flagged ({zone})": fmt.when(o["updated_at"], zone, named=False),
                    "Student": (o.get("student") or {}).get("display_name", "-"),
                    "Mentor": (o.get("mentor") or {}).get("public_name", "-"),
                    "Expected": fmt.money(o["amount_cents"], o["currency"]),
                    "Provider": o["provider"],
                    "Why": o["flagged_reason"],
                    f"Paid ({zone})": fmt.when(o["paid_at"], zone, named=False),
                    f"Hold ran out ({zone})": fmt.when(o["expires_at"], zone, named=False),
                    "Order": o["id"],
                }
                for o in flagged
            ],
            hide_index=True,
            width="stretch",
            key="orders_flagged",
        )

with refunds_tab:
    refunds = paged(
        "refunds",
        "payments",
        {
            "select": "id,order_id,student_id,provider,provider_payment_id,status,amount_cents,"
            "refunded_cents,currency,paid_at,updated_at",
            "refunded_cents": "gt.0",
            "order": "updated_at.desc,id",
        },
    )
    if not refunds:
        st.info("No refunds yet.")
    else:
        students = admin.names({str(p["student_id"]) for p in refunds})
        st.dataframe(
            [
                {
                    f"Refunded ({zone})": fmt.when(p["updated_at"], zone, named=False),
                    "Student": students.get(str(p["student_id"]), "-"),
                    "Paid": fmt.money(p["amount_cents"], p["currency"]),
                    "Refunded": fmt.money(p["refunded_cents"], p["currency"]),
                    "Kept": fmt.money(p["amount_cents"] - p["refunded_cents"], p["currency"]),
                    "Status": "in full" if p["status"] == "refunded" else "in part",
                    "Provider": f"{p['provider']} {p['provider_payment_id']}",
                    f"Paid on ({zone})": fmt.when(p["paid_at"], zone, named=False),
                    "Order": p["order_id"],
                }
                for p in refunds
            ],
            hide_index=True,
            width="stretch",
            key="orders_refunds",
        )
        st.caption("A partial refund changes no sessions; a full one ended the pack and its seat.")
