"""Which pages each role gets (files in dashboards/views/), in the order of the sidebar; the
first is where the person lands after signing in."""

from __future__ import annotations

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
