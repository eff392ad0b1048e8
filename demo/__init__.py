"""The demo: a history of mentors and students played through the real rules at a frozen clock
(`mentorships seed`, `make demo`). Played from the checkout; not part of the installed runtime."""
