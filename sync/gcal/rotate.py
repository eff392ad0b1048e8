"""Re-sealing every stored refresh token under the newest token key (`mentorships gcal
rotate-key`): stored grants and grants queued for revocation, page by page, each one compare and
set (reseal_google_token), so a run can be repeated or interrupted and run again.

    counts = await rotate(keys, rest, progress=print)   # {"resealed", "skipped", "failed"}
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sync.gcal.sealing import SealError, TokenKeys
from sync.rest import Rest

PAGE = 200


async def rotate(
    keys: TokenKeys, rest: Rest, progress: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    counts = {"resealed": 0, "skipped": 0, "failed": 0}
    unopened: set[tuple[str, str]] = set()
    while True:
        rows = await rest.rpc(
            "google_tokens_to_reseal",
            {"newest_version": str(keys.newest), "max_rows": str(PAGE)},
            service=True,
        )
        rows = [r for r in rows if (r["kind"], r["id"]) not in unopened]
        if not rows:
            break
        for row in rows:
            try:
                sealed = keys.reseal(
                    row["refresh_token_sealed"], row["key_version"], uuid.UUID(row["mentor_id"])
                )
            except SealError as e:
                unopened.add((row["kind"], row["id"]))
                counts["failed"] += 1
                progress(f"  {row['kind']} {row['id']}: {e}")
                continue
            replaced = await rest.rpc(
                "reseal_google_token",
                {
                    "kind": row["kind"],
                    "id": row["id"],
                    "previous_sealed": row["refresh_token_sealed"],
                    "refresh_token_sealed": sealed.text,
                    "key_version": str(sealed.key_version),
                },
                service=True,
            )
            counts["resealed" if replaced else "skipped"] += 1
        progress(
            f"  {counts['resealed']} re-sealed under key version {keys.newest}, "
            f"{counts['skipped']} changed meanwhile, {counts['failed']} could not be opened"
        )
    return counts
