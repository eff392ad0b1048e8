"""The mentor's sessions: those the calendar sync flagged (changed in Google), those to close
(started, still scheduled: complete with notes and a recording link, or a no-show), the upcoming
ones (join, cancel with its terms, reschedule into a free slot) and the history, page by page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards import fmt, mentor, mentor_actions, ui

PAGE_ROWS = 25
SHOWN = 10  # sessions to close and upcoming ones shown at first; "Show more" adds as many


def more(key: str, total: int) -> int:
    """How many of `total` to show, and a button that shows SHOWN more."""
    shown: int = st.session_state.get(key, SHOWN)
    if total > shown and st.button(f"Show {min(SHOWN, total - shown)} more", key=f"{key}_more"):
        shown += SHOWN
        st.session_state[key] = shown
        st.rerun()
    return shown


st.title("Sessions")
mentor.mentor_row()
mentor.flash()
zone = ui.me().zone
now = mentor.now()
st.caption(f"All {fmt.zone_note(zone)}. Now: {fmt.when(now, zone)}.")

scheduled = mentor.scheduled()
by_id = {str(s["id"]): s for s in scheduled}
flags = mentor.open_flags()

if flags:
    st.subheader(f"Changed in Google Calendar ({len(flags)})")
    st.caption(
        "You deleted or moved these sessions' events in Google. Choose: cancel the session, "
        "or put the event back at the session's time."
    )
    for flag in flags:
        with st.container(border=True):
            mentor_actions.resolve(flag, by_id.get(str(flag["session_id"])), zone)

to_close = [s for s in scheduled if fmt.instant(s["starts_at"]) <= now]  # type: ignore[operator]
upcoming = [s for s in scheduled if fmt.instant(s["starts_at"]) > now]  # type: ignore[operator]

st.subheader(f"To close ({len(to_close)})")
if not to_close:
    st.caption("Nothing to close: every session that started is recorded.")
for s in list(reversed(to_close))[: st.session_state.get("close_shown", SHOWN)]:
    with st.expander(mentor.label(s, zone), expanded=len(to_close) <= 3):
        st.caption("Record how it went: completed (with notes and the recording), or a no-show.")
        mentor_actions.close(s)
more("close_shown", len(to_close))

st.subheader(f"Upcoming ({len(upcoming)})")
if not upcoming:
    st.caption(
        "No upcoming sessions. Students book your free slots: set your hours on "
        "'Availability and calendar'."
    )
for s in upcoming[: st.session_state.get("upcoming_shown", SHOWN)]:
    with st.expander(mentor.label(s, zone)):
        mentor_actions.join(s)
        st.divider()
        mentor_actions.reschedule(s, zone)
        st.divider()
        mentor_actions.cancel(s)
more("upcoming_shown", len(upcoming))

st.subheader("History")
cursors: list[tuple[str, str]] = st.session_state.setdefault("history_cursors", [])
before, before_id = cursors[-1] if cursors else (None, None)
page = mentor.history_page(before, before_id, PAGE_ROWS)


def row(s: dict[str, Any]) -> dict[str, Any]:
    return {
        f"Starts ({zone})": fmt.when(s["starts_at"], zone, named=False),
        "Student": mentor.student_name(s),
        "Status": mentor.STATUS.get(str(s["status"]), str(s["status"])),
        "Notes": s.get("notes") or "",
        "Recording": s.get("recording_url") or "",
    }


if not page:
    st.caption("No sessions yet." if not cursors else "No older sessions.")
else:
    st.dataframe(
        [row(s) for s in page],
        hide_index=True,
        column_config={"Recording": st.column_config.LinkColumn("Recording")},
        key="history_table",
    )
left, right = st.columns(2)
if cursors and left.button("Newest", key="history_newest", icon=":material/first_page:"):
    st.session_state["history_cursors"] = []
    st.rerun()
if len(page) == PAGE_ROWS and right.button(
    "Older", key="history_older", icon=":material/navigate_next:"
):
    cursors.append((str(page[-1]["starts_at"]), str(page[-1]["id"])))
    st.rerun()
