"""Find a mentor: the active mentors (their free seats, `free_seats`) and the packs they sell, each
with a button that starts a Stripe checkout on the services (`create_order` decides: a full
mentor, one not taking students, a product no longer sold are its refusals, shown as they are)."""

from __future__ import annotations

import streamlit as st

from dashboards import fmt, student, ui

me = ui.me()
st.title("Find a mentor")
st.caption(
    "Each pack is a number of one-on-one video sessions to book within its validity. A new "
    "mentor needs a free seat; buying again from your own mentor renews your seat."
)

params = {
    "select": "id,public_name,headline,bio,time_zone,accepting_students,free_seats,"
    "mentorship_products(id,title,description,sessions_count,validity_days,price_cents,currency)",
    "order": "public_name,id",
    "limit": "200",
}
mentors = ui.rows_or_stop(("student_catalog", "mentors"), lambda: ui.api().rows("mentors", params))
mine = {str(r["mentor_id"]): r for r in student.mentors()}
query = st.text_input("Search by name or headline", key="catalog_search").strip().lower()
shown = [
    m
    for m in mentors
    if m.get("mentorship_products")
    and (not query or query in f"{m['public_name']} {m.get('headline') or ''}".lower())
]
if not shown:
    st.info(
        "No mentor matches: try another word." if query else "No mentor sells a pack right now."
    )
    st.stop()

for m in shown:
    mid = str(m["id"])
    relation = mine.get(mid)
    with st.container(border=True):
        head, seats = st.columns([4, 1])
        head.markdown(f"### {m['public_name']}")
        if m.get("headline"):
            head.markdown(str(m["headline"]))
        head.caption(f"Works in {m['time_zone']}")
        if relation and relation["seat_status"] in ("active", "grace"):
            seats.success("Your mentor", icon=":material/how_to_reg:")
        elif not m["accepting_students"]:
            seats.warning("Not taking new students")
        elif int(m["free_seats"] or 0) > 0:
            seats.info(f"{m['free_seats']} free seat{'s' if m['free_seats'] != 1 else ''}")
        else:
            seats.warning("No free seat")
        if m.get("bio"):
            with st.expander("About"):
                st.markdown(str(m["bio"]))
        for p in sorted(m["mentorship_products"], key=lambda p: (p["price_cents"], p["id"])):
            pid = str(p["id"])
            text, buy = st.columns([3, 1])
            sessions = student.plural(int(p["sessions_count"]), "session")
            text.markdown(
                f"**{p['title']}**: {sessions} within {student.plural(int(p['validity_days']), 'day')}"
                f", {fmt.money(p['price_cents'], p['currency'])}"
            )
            if p.get("description"):
                text.caption(str(p["description"]))
            area = st.container()
            with buy:
                student.checkout(
                    f"buy_{pid}", pid, "Buy with Stripe", ":material/shopping_cart:", area
                )
