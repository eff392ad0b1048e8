"""Agora (video calls): RTC tokens minted with Agora's own builder (agora-token-builder)."""
