"""Admin: the instructors with their live figures (search, pages counted by the database), one
instructor's mentees, and the CSV of every instructor-mentee relationship."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards import admin, fmt, ui

PER_PAGE = 25

me = admin.admin()
zone = me.zone
st.title("Instructors")
st.caption(f"Live figures. {admin.zone_sentence(zone)}")

search = st.text_input(
    "Search by name, slug or email", key="instructors_search", placeholder="e.g. Ana or ana@"
).strip()
if st.session_state.get("instructors_searched") != search:
    st.session_state["instructors_searched"] = search
    st.session_state["instructors_page"] = 0
page_no: int = st.session_state.setdefault("instructors_page", 0)


def fetch(offset: int) -> list[dict[str, Any]]:
    args = {"search": search or None, "skip_rows": offset, "max_rows": PER_PAGE}
    return list(ui.api().rpc("admin_instructors", args, read=True) or [])


rows = ui.rows_or_stop(("admin_instructors", search, page_no), lambda: fetch(page_no * PER_PAGE))
if not rows and page_no > 0:  # the list shrank under us: back to the first page
    st.session_state["instructors_page"] = page_no = 0
    rows = ui.rows_or_stop(("admin_instructors", search, 0), lambda: fetch(0))
total = int(rows[0]["total_count"]) if rows else 0

if not rows:
    st.info(
        f'No instructor matches "{search}". Try part of a name or an email.'
        if search
        else "No instructors yet. A mentor appears here once their mentor profile exists."
    )
else:
    first = page_no * PER_PAGE + 1
    st.caption(f"Instructors {first} to {first + len(rows) - 1} of {total}")
    st.dataframe(
        [
            {
                "Instructor": r["mentor_name"],
                "Active mentees": r["active_mentees"],
                "Upcoming sessions": r["upcoming_sessions"],
                "Free seats": f"{r['free_seats']} of {r['seat_capacity']}",
                "Sessions remaining": r["sessions_remaining"],
                "Completed": r["sessions_completed"],
                f"Last session ({zone})": fmt.when(r["last_session_at"], zone, named=False),
                "Email": r["email"] or "-",
                "Listed": "yes" if r["is_active"] else "no",
                "Joined": fmt.day(r["joined_at"], zone),
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
        key="instructors_table",
    )
    prev_col, next_col, _ = st.columns([1, 1, 6])
    if prev_col.button("Previous", key="instructors_prev", disabled=page_no == 0):
        st.session_state["instructors_page"] = page_no - 1
        st.rerun()
    if next_col.button("Next", key="instructors_next", disabled=first + len(rows) - 1 >= total):
        st.session_state["instructors_page"] = page_no + 1
        st.rerun()

    st.subheader("Mentees")
    by_label = {f"{r['mentor_name']} <{r['email'] or r['slug']}>": r for r in rows}
    picked = st.selectbox(
        "Show the mentees of",
        list(by_label),
        index=None,
        placeholder="Choose an instructor on this page",
        key="instructors_expand",
    )
    if picked is not None:
        mentor = by_label[picked]
        mentees = ui.rows_or_stop(
            ("admin_relationships", mentor["mentor_id"]),
            lambda: list(
                ui.api().rpc("admin_relationships", {"mentor_id": mentor["mentor_id"]}, read=True)
                or []
            ),
        )
        if not mentees:
            st.info(f"{mentor['mentor_name']} has no mentees yet (nobody bought a pack).")
        else:
            st.dataframe(
                [
                    {
                        "Student": m["student_name"],
                        "Email": m["student_email"] or "-",
                        "Sessions": f"{m['sessions_remaining']} of {m['sessions_total']} left",
                        "Completed": m["sessions_completed"],
                        f"Last session ({zone})": fmt.when(m["last_session_at"], zone, named=False),
                        f"Next session ({zone})": fmt.when(m["next_session_at"], zone, named=False),
                        "Pack": m["current_pack_status"],
                        "Seat": m["seat_status"],
                    }
                    for m in mentees
                ],
                hide_index=True,
                width="stretch",
                key="instructors_mentees",
            )

st.subheader("Export")
st.caption(
    "Every instructor-mentee relationship, live, as a CSV (UTF-8, opens in any spreadsheet); "
    f"times in {zone}."
)
if st.button("Prepare the CSV", key="instructors_csv_prepare", icon=":material/table:"):
    with ui.shown_errors("The export failed"):
        everyone = list(ui.api().rpc("admin_relationships", {}, read=True) or [])
        st.session_state["instructors_csv_data"] = admin.relationships_csv(everyone, zone)
        st.session_state["instructors_csv_rows"] = len(everyone)
data = st.session_state.get("instructors_csv_data")
if data is not None:
    st.download_button(
        f"Download {st.session_state['instructors_csv_rows']} relationship"
        f"{'' if st.session_state['instructors_csv_rows'] == 1 else 's'} (CSV)",
        data=data,
        file_name=f"instructor-mentees-{admin.now():%Y%m%d-%H%M}.csv",
        mime="text/csv",
        key="instructors_csv",
        icon=":material/download:",
    )
