"""`python -m sync`: run the services (sync.server)."""

from sync.server import main

main()
