"""Admin: find a pack by its student's or mentor's name or email, see its balance, add or remove
sessions with a reason (adjust_pack_sessions), and the recent adjustments."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards import admin, fmt, ui

me = admin.admin()
zone = me.zone
st.title("Pack adjustments")

done = st.session_state.pop("packs_done", None)
if done:
    st.success(done, icon=":material/check_circle:")

term = st.text_input("Find packs by student or mentor (name or email)", key="packs_search").strip()
SELECT = (
    "id,status,remaining_sessions,sessions_total,purchased_at,expires_at,mentor_id,student_id,"
    "mentor(public_name),student(display_name)"
)


def find(term: str) -> list[dict[str, Any]]:
    ids = admin.people_matching(term)
    if not ids:
        return []
    within = ",".join(ids)
    return ui.api().rows(
        "session_packs",
        {
            "select": SELECT,
            "or": f"(student_id.in.({within}),mentor_id.in.({within}))",
            "order": "purchased_at.desc",
            "limit": "50",
        },
    )


def label(p: dict[str, Any]) -> str:
    student = (p.get("student") or {}).get("display_name") or p["student_id"]
    mentor = (p.get("mentor") or {}).get("public_name") or p["mentor_id"]
    return (
        f"{student} with {mentor}: {p['remaining_sessions']} of {p['sessions_total']} left, "
        f"{p['status']}, bought {fmt.day(p['purchased_at'], zone)}"
    )


pack: dict[str, Any] | None = None
if not term:
    st.info("Type part of a student's or mentor's name or email to find their packs.")
else:
    packs = ui.rows_or_stop(("admin_packs", term), lambda: find(term))
    if not packs:
        st.info(f'No pack of anyone matching "{term}".')
    else:
        by_id = {p["id"]: p for p in packs}
        chosen = st.selectbox(
            f"Packs ({len(packs)}, newest first)",
            list(by_id),
            format_func=lambda pid: label(by_id[pid]),
            key="packs_pick",
        )
        pack = by_id.get(chosen)

if pack is not None:
    left, total_, status, expires = st.columns([1, 1, 1, 2])
    left.metric("Sessions left", pack["remaining_sessions"])
    total_.metric("Sessions bought", pack["sessions_total"])
    status.metric("Status", pack["status"])
    expires.metric("Expires", fmt.day(pack["expires_at"], zone))
    st.caption(f"Expires {fmt.when(pack['expires_at'], zone)}")

    with st.form("packs_adjust_form", clear_on_submit=False):
        st.markdown("**Add or remove sessions** (logged with your reason)")
        delta = st.number_input(
            "Sessions to add (negative to remove)",
            min_value=-52,
            max_value=52,
            value=1,
            step=1,
            key="packs_delta",
        )
        reason = st.text_area("Reason", key="packs_reason", max_chars=1000)
        submitted = st.form_submit_button("Adjust the pack", key="packs_adjust")
    if submitted:
        with ui.shown_errors("Not adjusted"):
            after = ui.api().rpc(
                "adjust_pack_sessions",
                {"pack_id": pack["id"], "delta": int(delta), "reason": reason},
            )
            ui.changed()
            st.session_state["packs_done"] = (
                f"Adjusted by {int(delta):+d}: now {after['remaining_sessions']} sessions left "
                f"(bought {after['sessions_total']})."
            )
            st.rerun()

    st.subheader("This pack's credit history")
    pack_id = pack["id"]
    entries = ui.rows_or_stop(
        ("admin_pack_ledger", pack_id),
        lambda: ui.api().rows(
            "session_credit_ledger",
            {
                "select": "created_at,kind,delta,reason,actor_id",
                "pack_id": f"eq.{pack_id}",
                "order": "created_at.desc,id.desc",
                "limit": "100",
            },
        ),
    )
    who = admin.names({str(e["actor_id"]) for e in entries if e["actor_id"]})
    st.dataframe(
        [
            {
                f"When ({zone})": fmt.when(e["created_at"], zone, named=False),
                "What": e["kind"],
                "Change": e["delta"],
                "Reason": e["reason"] or "",
                "By": who.get(str(e["actor_id"]), "the rules") if e["actor_id"] else "the rules",
            }
            for e in entries
        ],
        hide_index=True,
        width="stretch",
        key="packs_ledger",
    )

st.subheader("Recent adjustments (every pack)")
recent = ui.rows_or_stop(
    ("admin_adjustments",),
    lambda: ui.api().rows(
        "session_credit_ledger",
        {
            "select": "created_at,delta,reason,actor_id,pack_id,student_id,mentor_id",
            "kind": "eq.admin_adjustment",
            "order": "created_at.desc,id.desc",
            "limit": "20",
        },
    ),
)
if not recent:
    st.info("No adjustments yet.")
else:
    people = admin.names(
        {str(r[k]) for r in recent for k in ("actor_id", "student_id", "mentor_id") if r[k]}
    )
    st.dataframe(
        [
            {
                f"When ({zone})": fmt.when(r["created_at"], zone, named=False),
                "Student": people.get(str(r["student_id"]), str(r["student_id"])),
                "Mentor": people.get(str(r["mentor_id"]), str(r["mentor_id"])),
                "Change": r["delta"],
                "Reason": r["reason"] or "",
                "By": people.get(str(r["actor_id"]), "-"),
            }
            for r in recent
        ],
        hide_index=True,
        width="stretch",
        key="packs_recent",
    )
