"""`python -m sync.gcal`: run the calendar sync (sync.gcal.worker)."""

from sync.gcal.worker import main

if __name__ == "__main__":
    main()
