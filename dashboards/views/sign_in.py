"""Sign in: on a local stack, choose a listed account; hosted, an email code or a password."""

from __future__ import annotations

import streamlit as st

from dashboards import auth, ui
from dashboards.api import ApiError

st.title("Sign in to Mentorships")
s = ui.settings()


def done(signed: auth.SignedIn) -> None:
    ui.sign_in(signed)
    st.rerun()


if s.dashboards_local_sign_in:
    st.info(
        "Local sign-in: this app runs on a local stack, where Supabase Auth does not run. "
        "Choose an account; the app mints its token with the stack's JWT secret. "
        "A hosted project shows email and password sign-in here instead.",
        icon=":material/info:",
    )
    role = st.radio("Role", ["admin", "mentor", "student"], horizontal=True, index=2, key="role")
    search = st.text_input(
        "Search by email or name", key="account_search", placeholder="e.g. student1@"
    )
    try:
        accounts = auth.local_accounts(s, str(role), search)
    except (ApiError, auth.SignInError) as e:
        st.error(f"The accounts could not be listed: {e}")
        st.stop()
    if not accounts:
        st.warning(
            f"No {role} account matches. Without any account yet, run `mentorships seed` "
            "(or `make demo`) and reload."
        )
        st.stop()
    by_label = {a.label: a for a in accounts}
    shown = (
        f"first {auth.ACCOUNTS_LISTED} by email" if len(accounts) == auth.ACCOUNTS_LISTED else ""
    )
    if st.session_state.get("account") not in by_label:
        # A new role or search: the first account found, not an empty choice.
        st.session_state["account"] = next(iter(by_label))
    label = st.selectbox("Account", list(by_label), key="account", help=shown or None)
    if st.button("Sign in", type="primary", key="local_sign_in", disabled=label is None):
        try:
            done(auth.local_sign_in(s, by_label[str(label)]))
        except (ApiError, auth.SignInError) as e:
            st.error(str(e))
else:
    code_tab, password_tab = st.tabs(["Email code", "Password"])
    with code_tab:
        email = st.text_input("Email", key="otp_email")
        if st.button("Send me a code", key="send_code"):
            try:
                auth.send_code(s, email.strip())
                st.session_state["code_sent_to"] = email.strip()
                st.success(f"A code is on its way to {email.strip()}.")
            except auth.SignInError as e:
                st.error(str(e))
        if st.session_state.get("code_sent_to"):
            code = st.text_input("Code from the email", key="otp_code")
            if st.button("Sign in", type="primary", key="verify_code"):
                try:
                    done(auth.verify_code(s, st.session_state["code_sent_to"], code.strip()))
                except (ApiError, auth.SignInError) as e:
                    st.error(str(e))
    with password_tab:
        email_pw = st.text_input("Email", key="pw_email")
        password = st.text_input("Password", type="password", key="pw_password")
        if st.button("Sign in", type="primary", key="password_sign_in"):
            try:
                done(auth.with_password(s, email_pw.strip(), password))
            except (ApiError, auth.SignInError) as e:
                st.error(str(e))
