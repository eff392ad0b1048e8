"""`python -m sync.gcal`: run the calendar sync and the session events (sync.gcal.worker)."""

from sync.gcal.worker import main

if __name__ == "__main__":
    main()
