"""Strict local fakes of the providers' HTTP APIs (testing/fakes/http.py) and their answers."""
