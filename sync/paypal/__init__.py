"""PayPal: Orders v2 over HTTP (OAuth client credentials), capture, and the webhook endpoint with
offline signature verification."""
