"""The dashboards' entry point: `streamlit run dashboards/app.py`. Signed out, the sign-in page;
signed in, the pages of the person's role (their profile's, read with their token)."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script by Streamlit: the checkout's root on the path, so `dashboards` imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboards import ui
from dashboards.settings import ConfigError

PAGES = Path(__file__).parent / "pages"

ROLE_PAGES: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    # role: section: [(file, title, icon)]
    "student": {
        "Student": [
            ("student_home.py", "My mentors", ":material/groups:"),
            ("student_book.py", "Book a session", ":material/event_available:"),
            ("student_sessions.py", "My sessions", ":material/event:"),
            ("student_messages.py", "Messages", ":material/mail:"),
            ("student_catalog.py", "Find a mentor", ":material/person_search:"),
        ]
    },
    "mentor": {
        "Mentor": [
            ("mentor_home.py", "Overview", ":material/dashboard:"),
            ("mentor_sessions.py", "Sessions", ":material/event:"),
            ("mentor_week.py", "My week", ":material/calendar_view_week:"),
            ("mentor_settings.py", "Availability and calendar", ":material/schedule:"),
        ]
    },
    "admin": {
        "Admin": [
            ("admin_instructors.py", "Instructors", ":material/school:"),
            ("admin_packs.py", "Pack adjustments", ":material/tune:"),
            ("admin_orders.py", "Orders and refunds", ":material/receipt_long:"),
            ("admin_messages.py", "Failed messages", ":material/mark_email_unread:"),
            ("admin_audit.py", "Audit log", ":material/history:"),
            ("admin_reports.py", "Reports", ":material/monitoring:"),
        ]
    },
}
ACCOUNT = [("account.py", "My account", ":material/person:")]


def _page(file: str, title: str, icon: str, default: bool = False) -> st.Page:
    return st.Page(str(PAGES / file), title=title, icon=icon, default=default)


def main() -> None:
    st.set_page_config(page_title="Mentorships", page_icon=":material/palette:", layout="wide")
    try:
        ui.settings()
    except ConfigError as e:
        st.error(f"The dashboards are not configured: {e}")
        st.stop()
    signed = ui.signed_in()
    if signed is None:
        st.navigation([_page("sign_in.py", "Sign in", ":material/login:", default=True)]).run()
        return
    sections: dict[str, list[st.Page]] = {}
    first = True
    for section, pages in ROLE_PAGES.get(signed.role, {}).items():
        sections[section] = []
        for file, title, icon in pages:
            sections[section].append(_page(file, title, icon, default=first))
            first = False
    sections["Account"] = [_page(f, t, i, default=first) for f, t, i in ACCOUNT]
    with st.sidebar:
        st.markdown(f"**{signed.name or signed.email}**  \n{signed.role} · {signed.zone}")
        if signed.local:
            st.caption("Local sign-in (local stack)")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            ui.sign_out()
            st.rerun()
    st.navigation(sections).run()


main()
