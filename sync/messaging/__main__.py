"""`python -m sync.messaging`: run the outbox dispatcher (sync.messaging.worker)."""

from sync.messaging.worker import main

if __name__ == "__main__":
    main()
