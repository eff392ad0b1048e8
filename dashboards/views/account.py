"""My account (every role): display name and time zone (the columns a person may write on their
own profile; the database checks them), Discord linked through its OAuth2 flow on the services or
unlinked (`unlink_discord`), and the message switches (`my_notification_preferences`, written as
rows of `notification_preferences`)."""

from __future__ import annotations

import zoneinfo

import streamlit as st

from dashboards import auth, student, ui
from dashboards.api import ApiError

me = ui.me()
st.title("My account")
st.caption(f"Signed in as {me.email} ({me.role}).")
done = st.session_state.pop("account_done", None)
if done:
    st.success(done, icon=":material/check_circle:")

profile = student.profile()
zones = sorted(zoneinfo.available_timezones())
current = str(profile.get("time_zone") or me.zone)
if current not in zones:
    zones.insert(0, current)

st.subheader("Name and time zone")
with st.form("account_profile"):
    name = st.text_input(
        "Display name (your mentors and students see it)",
        value=str(profile.get("display_name") or ""),
        key="account_name",
    )
    zone = st.selectbox(
        "Time zone (every time on these pages is shown in it)",
        zones,
        index=zones.index(current),
        key="account_zone",
    )
    if st.form_submit_button("Save", key="account_save", type="primary"):
        try:
            ui.api().update(
                "profiles", {"id": me.user_id}, {"display_name": name, "time_zone": zone}
            )
            # The signed-in session carries the name and zone: read them again.
            ui.sign_in(auth.with_profile(ui.settings(), me))
        except ApiError as e:
            st.error(f"Not saved: {e}", icon=":material/error:")
        except auth.SignInError as e:
            st.error(str(e), icon=":material/error:")
        else:
            ui.changed()
            st.session_state["account_done"] = "Saved your name and time zone."
            st.rerun()

st.subheader("Discord")
linked = profile.get("discord_user_id")
if linked:
    st.markdown(f"Linked to the Discord account with the id `{linked}`: your messages come as "
                "direct messages too.")  # fmt: skip
    if st.session_state.get("discord_unlinking"):
        st.warning("Unlink Discord? Your messages then come by email only.")
        yes, no = st.columns(2)
        if yes.button("Yes, unlink", key="discord_unlink_confirm", type="primary"):
            st.session_state.pop("discord_unlinking", None)
            try:
                ui.api().rpc("unlink_discord")
            except ApiError as e:
                st.error(f"Not unlinked: {e}", icon=":material/error:")
            else:
                ui.changed()
                st.session_state["account_done"] = "Discord unlinked."
                st.rerun()
        if no.button("Keep it linked", key="discord_unlink_back"):
            st.session_state.pop("discord_unlinking", None)
            st.rerun()
    elif st.button("Unlink Discord", key="discord_unlink", icon=":material/link_off:"):
        st.session_state["discord_unlinking"] = True
        st.rerun()
else:
    st.markdown("Not linked: your messages come by email. Link Discord to get them as direct "
                "messages too.")  # fmt: skip
    if st.button("Link Discord", key="discord_link", icon=":material/link:"):
        try:
            answer = ui.api().service("GET", "/oauth/discord/start")
        except ApiError as e:
            st.error(f"Discord cannot be linked now: {e}", icon=":material/error:")
        else:
            st.link_button("Continue at Discord", str(answer["url"]), key="discord_go",
                           type="primary")  # fmt: skip
            st.caption("The link works for 10 minutes; come back here when Discord is done.")

st.subheader("Messages")
st.caption(
    "Reminders before a session and the nudges to renew may be turned off, per channel. "
    "Purchases, bookings, changes, cancellations, refunds and your seat's grace period are "
    "always sent."
)
KINDS = {
    "session_reminder_24h": "Reminder a day before a session",
    "session_reminder_1h": "Reminder an hour before a session",
    "renewal_reminder": "Reminder to renew your pack",
    "one_session_left": "Note that one session is left",
}
try:
    prefs = ui.read(
        ("account", "prefs", me.user_id),
        lambda: list(ui.api().rpc("my_notification_preferences", read=True) or []),
    )
except ApiError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()
with st.form("account_prefs"):
    head = st.columns([3, 1, 1])
    head[1].markdown("**Email**")
    head[2].markdown("**Discord**")
    wanted: dict[tuple[str, str], bool] = {}
    by_kind: dict[str, dict[str, bool]] = {}
    for p in prefs:
        by_kind.setdefault(str(p["kind"]), {})[str(p["channel"])] = bool(p["enabled"])
    for kind, channels in by_kind.items():
        cols = st.columns([3, 1, 1])
        cols[0].markdown(KINDS.get(kind, kind))
        for i, channel in enumerate(("email", "discord"), start=1):
            if channel in channels:
                wanted[(kind, channel)] = cols[i].checkbox(
                    f"{KINDS.get(kind, kind)} by {channel}",
                    value=channels[channel],
                    key=f"pref_{kind}_{channel}",
                    label_visibility="collapsed",
                )
    if not linked:
        st.caption("Discord messages reach you once you link Discord.")
    if st.form_submit_button("Save message settings", key="prefs_save"):
        try:
            for (kind, channel), enabled in wanted.items():
                if by_kind[kind][channel] != enabled:
                    ui.api().upsert(
                        "notification_preferences",
                        {"user_id": me.user_id, "kind": kind, "channel": channel,
                         "enabled": enabled},
                        "user_id,kind,channel",
                    )  # fmt: skip
        except ApiError as e:
            ui.changed()
            st.error(f"Not saved: {e}", icon=":material/error:")
        else:
            ui.changed()
            st.session_state["account_done"] = "Saved your message settings."
            st.rerun()
