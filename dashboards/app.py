"""The dashboards' entry point: `streamlit run dashboards/app.py`. Signed out, the sign-in page;
signed in, the pages of the person's role (their profile's, read with their token)."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script by Streamlit: the checkout's root on the path, so `dashboards` imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboards import ui
from dashboards.roles import ACCOUNT, ROLE_PAGES
from dashboards.settings import ConfigError

# Not "views/": beside the entry point that name makes Streamlit (and its AppTest) treat the app
# as a folder of pages, run without the entry point.
PAGES = Path(__file__).parent / "views"


def _page(file: str, title: str, icon: str, default: bool = False) -> st.Page:
    return st.Page(str(PAGES / file), title=title, icon=icon, default=default)


def main() -> None:
    st.set_page_config(page_title="Mentorships", page_icon=":material/palette:", layout="wide")
    ui.new_render()
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
