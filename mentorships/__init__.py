"""Mentorships: local Supabase-compatible stack, CLI and shared helpers."""
