"""Strict local fakes of the providers' HTTP APIs (tests/fakes/http.py) and their answers."""
