"""Discord: linking a person's Discord account through Discord's OAuth2 flow (oauth.py)."""
