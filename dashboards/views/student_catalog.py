"""Find a mentor: the active mentors (their free seats, `free_seats`) and the packs they sell, each
with a button that starts a Stripe checkout on the services (`create_order` decides: a full
mentor, one not taking students, a product no longer sold are its refusals, shown as they are)."""

from __future__ import annotations

import streamlit as st

from dashboards import fmt, student, ui
from dashboards.api import ApiError

me = ui.me()
st.title("Find a mentor")
st.caption(
    "Each pack is a number of one-on-one video sessions to book within its validity. A new "
    "mentor needs a free seat; buying again from your own mentor renews your seat."
)

PER_PAGE = 12

query = st.text_input("Search by name or headline", key="catalog_search").strip()
if st.session_state.get("catalog_for") != query:  # a new search starts at its first page
    st.session_state["catalog_for"] = query
    st.session_state["catalog_page"] = 0
page_no: int = st.session_state.setdefault("catalog_page", 0)
params = {
    # !inner: only mentors with a pack on sale (the policies show a student the sold ones).
    "select": "id,public_name,headline,bio,time_zone,accepting_students,free_seats,"
    "mentorship_products!inner(id,title,description,sessions_count,validity_days,price_cents,"
    "currency)",
    "order": "public_name,id",
}
words = "".join(ch for ch in query if ch.isalnum() or ch in " -'.").strip()
if words:
    like = f'"*{words}*"'
    params["or"] = f"(public_name.ilike.{like},headline.ilike.{like})"
try:
    shown, total = ui.read(
        ("student_catalog", words, page_no),
        lambda: ui.api().page("mentors", params, offset=page_no * PER_PAGE, limit=PER_PAGE),
    )
except ApiError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()
mine = {str(r["mentor_id"]): r for r in student.mentors()}
if not shown:
    st.info(
        "No mentor matches: try another word." if words else "No mentor sells a pack right now."
    )
    st.stop()
first = page_no * PER_PAGE + 1
st.caption(f"Mentors {first} to {first + len(shown) - 1} of {total}")

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

prev, nxt = st.columns(2)
if prev.button("Previous", key="catalog_prev", disabled=page_no == 0):
    st.session_state["catalog_page"] = page_no - 1
    st.rerun()
if nxt.button("Next", key="catalog_next", disabled=total is None or first + len(shown) > total):
    st.session_state["catalog_page"] = page_no + 1
    st.rerun()
