"""Demo data (placeholder until written)."""
from __future__ import annotations
from collections.abc import Callable
from mentorships.settings import Settings

def run(settings: Settings, *, scale: int, random_seed: int, progress: Callable[[str], None]) -> dict[str, int]:
    return {}

def info_text(settings: Settings) -> str:
    return ""
