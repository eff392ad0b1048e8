"""`python -m sync.reports`: the reports' schedule (sync.reports.worker)."""

from sync.reports.worker import main

if __name__ == "__main__":
    main()
