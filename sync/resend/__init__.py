"""Resend: delivering email (transport.py) and what its error answers mean (errors.py)."""
