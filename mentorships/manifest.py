"""The manifest of landed migrations (supabase/migrations.sha256): one `<sha256>  <file>` line per
migration that landed. `check_manifest` refuses an edited or removed landed migration and a
migration not listed yet; `write_manifest` appends the new ones (`mentorships db checksums`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from mentorships.db import (
    MIGRATION_NAME,
    PROJECT,
    Sources,
    _accepted_names,
    migrations,
    sha256_of,
)
from mentorships.errors import StackError

MANIFEST_LINE = re.compile(r"^(?P<sha256>[0-9a-f]{64})  (?P<file>\S+)$")


def read_manifest(src: Sources = PROJECT) -> dict[str, str]:
    """File name -> sha256, as listed (an absent manifest lists nothing)."""
    if not src.manifest.exists():
        return {}
    listed: dict[str, str] = {}
    for n, line in enumerate(src.manifest.read_text().splitlines(), 1):
        m = MANIFEST_LINE.match(line)
        if not m or not MIGRATION_NAME.match(m["file"]) or m["file"] in listed:
            raise StackError(
                f"{src.shown(src.manifest)}:{n}: not a `<sha256>  <migration file>` line of its "
                f"own ({line[:80]!r}); restore the manifest from git"
            )
        listed[m["file"]] = m["sha256"]
    return listed


def _manifest_problems(
    src: Sources, listed: dict[str, str], accepted: set[str]
) -> tuple[list[str], list[str], dict[str, str]]:
    """(edited, gone, accepted name -> new sha256) among the listed files."""
    edited, gone, accept = [], [], {}
    for name, digest in listed.items():
        path = src.migrations_dir / name
        if not path.exists():
            gone.append(
                f"{src.shown(path)} is listed in {src.shown(src.manifest)} but the file is gone"
            )
            continue
        now = sha256_of(path)
        if now == digest:
            continue
        if name in accepted:
            accept[name] = now
        else:
            edited.append(
                f"{src.shown(path)} changed since it landed ({src.shown(src.manifest)} has "
                f"{digest[:12]}..., the file {now[:12]}...)"
            )
    return edited, gone, accept


def _manifest_refusal(src: Sources, edited: list[str], gone: list[str]) -> str:
    parts = []
    if edited:
        parts.append(
            "\n".join(edited) + "\nA landed migration is never edited: restore it (`git checkout "
            "-- <file>`) and put the change in a new migration. To accept an edit that changes "
            "nothing in the database (a comment): `mentorships db checksums --write "
            "--accept-edited <file>`, and `mentorships db apply --accept-edited <file>` on the "
            "databases that applied it."
        )
    if gone:
        parts.append(
            "\n".join(gone) + "\nA landed migration stays (`supabase db push` needs every "
            "version the hosted database recorded): restore it from git."
        )
    return "\n".join(parts)


def check_manifest(src: Sources = PROJECT) -> int:
    """StackError naming every landed migration that changed or went missing, and every
    migration not listed yet; returns how many are listed."""
    listed = read_manifest(src)
    edited, gone, _ = _manifest_problems(src, listed, set())
    unlisted = [m for m in migrations(src.migrations_dir) if m.path.name not in listed]
    problems = [_manifest_refusal(src, edited, gone)] if edited or gone else []
    if not src.manifest.exists():
        problems.append(f"{src.shown(src.manifest)} does not exist yet")
    if unlisted:
        problems.append(
            "\n".join(f"{src.shown(m.path)} is not in {src.shown(src.manifest)}" for m in unlisted)
            + "\nRun `mentorships db checksums --write` (it appends new migrations; lines "
            "already there never change)."
        )
    if problems:
        raise StackError("\n".join(problems))
    return len(listed)


def write_manifest(
    src: Sources = PROJECT, *, accept_edited: Iterable[str | Path] = ()
) -> list[str]:
    """Append the migrations not listed yet, in order; refuse (as check_manifest) when a listed
    one changed or is gone, unless its edit is accepted by name (its line then takes the new
    sha256: the one time a line changes). Returns the file names appended or accepted."""
    listed = read_manifest(src)
    accepted = _accepted_names(accept_edited)
    edited, gone, accept = _manifest_problems(src, listed, accepted)
    if edited or gone:
        raise StackError(_manifest_refusal(src, edited, gone))
    unknown = accepted - set(accept)
    if unknown:
        raise StackError(
            f"--accept-edited {', '.join(sorted(unknown))}: not a listed migration whose text "
            f"changed; nothing to accept"
        )
    listed.update(accept)
    added = [m for m in migrations(src.migrations_dir) if m.path.name not in listed]
    lines = [f"{digest}  {name}" for name, digest in listed.items()]
    lines += [f"{m.sha256()}  {m.path.name}" for m in added]
    if added or accept:
        src.manifest.parent.mkdir(parents=True, exist_ok=True)
        src.manifest.write_text("".join(line + "\n" for line in lines))
    return sorted(accept) + [m.path.name for m in added]
