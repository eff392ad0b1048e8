"""`python -m sync.messaging`: run the outbox dispatcher (sync.messaging.worker)."""

from sync.messaging.worker import main

main()
