"""Discord: linking a person's Discord account through Discord's OAuth2 flow (oauth.py), and
delivering messages to them as direct messages from the bot (dm.py)."""
