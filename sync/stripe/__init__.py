"""Stripe: Checkout Sessions (through the `stripe` library) and the webhook endpoint."""
