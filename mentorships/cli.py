"""`mentorships`: run the local stack and its database.

Every command reads its settings from MENTORSHIPS_* environment variables (and .env); see
.env.example. MENTORSHIPS_STACK picks the stack (default `demo`; `make test` uses `test`).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

import click
import psycopg

from mentorships import db, manifest
from mentorships import jwt as jwt_
from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings, get_settings
from mentorships.stack import Stack


def _step(label: str) -> float:
    click.echo(f"  {label} ... ", nl=False)
    return time.monotonic()


def _done(started: float, changed: bool = True, note: str = "") -> None:
    state = "ok" if changed else "already running"
    click.echo(f"{state} ({time.monotonic() - started:.1f} s){' ' + note if note else ''}")


def _checkout_on_path() -> None:
    """demo/ and the testing/ it signs provider events with are played from this checkout, not
    installed (as bench/ does)."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.append(str(PROJECT_DIR))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Mentorships local stack: PostgreSQL 15 + pg_cron, PostgREST 12 behind an
    nginx gateway at /rest/v1/ (as hosted Supabase), the Python services (checkout,
    webhooks) and the project's SQL.

    \b
    Start here:
      mentorships up          start everything (creates the cluster on first run)
      mentorships db apply    migrations, then sql/rules, then sql/rls
      mentorships seed        demo data
      mentorships info        URLs, keys and curl lines that work
      mentorships reports build   the reports (dbt) in the analytics schema
    """
    ctx.obj = get_settings()


@cli.command()
@click.pass_obj
def up(settings: Settings) -> None:
    """Start PostgreSQL, PostgREST, the gateway and the services (idempotent)."""
    stack = Stack(settings)
    click.echo(f"Starting the `{settings.stack}` stack:")
    t = _step(f"PostgreSQL on {stack.postgres.address}")
    created = stack.postgres.init()
    started = stack.postgres.start()
    _done(t, started, "(new cluster)" if created else "")
    t = _step("auth shim (roles, auth schema)")
    db.apply_shim(settings)
    _done(t)
    t = _step(f"PostgREST on {stack.postgrest.address}")
    _done(t, stack.postgrest.start())
    t = _step(f"gateway on {settings.rest_url}/")
    _done(t, stack.gateway.start())
    if stack.google.enabled:
        t = _step(f"local Google on {stack.google.address}")
        _done(t, stack.google.start())
        click.echo(
            "  note: Google runs in local mode (no MENTORSHIPS_GOOGLE_CLIENT_ID): /oauth/google/start "
            "sends mentors to its consent page,\n        and the calendar sync lists the calendars "
            f"kept in {stack.google.state_dir.relative_to(PROJECT_DIR)}."
        )
    t = _step(f"services on {stack.services.address}/")
    _done(t, stack.services.start())
    if stack.worker.enabled:
        t = _step("outbox dispatcher")
        _done(t, stack.worker.start())
        for channel, where in stack.worker.transports().items():
            is_file = where.startswith("file")
            click.echo(
                f"  {channel} messages go to {where}"
                + (
                    " (no provider key set: local mode; `mentorships mail` lists them)"
                    if is_file
                    else ""
                )
            )
    else:
        click.echo("  outbox dispatcher: off (MENTORSHIPS_MESSAGES_WORKER=false)")
    if stack.gcal.enabled:
        t = _step("calendar sync")
        _done(t, stack.gcal.start())
    else:
        click.echo("  calendar sync: off (MENTORSHIPS_GCAL_WORKER=false)")
    if stack.reports.enabled:
        t = _step("reports schedule")
        _done(t, stack.reports.start())
    else:
        click.echo("  reports schedule: off (MENTORSHIPS_REPORTS_WORKER=false)")
    if stack.dashboards.enabled:
        t = _step(f"dashboards on {stack.dashboards.address}/")
        _done(t, stack.dashboards.start())
    else:
        click.echo("  dashboards: off (MENTORSHIPS_DASHBOARDS=false)")
    local = stack.services.local_providers()
    if local:
        secrets_file = stack.services.p.provider_secrets.relative_to(PROJECT_DIR)
        click.echo(
            f"  note: {' and '.join(local)} run on local placeholder API keys: checkout cannot "
            "reach their APIs until real test keys are set\n"
            "        (MENTORSHIPS_STRIPE_SECRET_KEY, MENTORSHIPS_PAYPAL_CLIENT_ID and _SECRET); "
            f"webhooks signed with the local secrets\n        in {secrets_file} verify "
            "(`mentorships keys` shows them)."
        )
    if stack.services.local_agora():
        click.echo(
            "  note: Agora runs on local placeholder keys: POST /video/token mints tokens that "
            "Agora's servers refuse until\n        MENTORSHIPS_AGORA_APP_ID and "
            "MENTORSHIPS_AGORA_APP_CERTIFICATE are the project's own."
        )
    paypal = stack.services.local_paypal_signer()
    if paypal is not None:
        key_file = stack.services.p.paypal_key.relative_to(PROJECT_DIR)
        click.echo(
            "  note: PayPal runs in local mode (placeholder keys: checkout cannot reach PayPal). "
            "The gateway plays PayPal's certificate\n"
            f"        host on {stack.services.local_paypal_base} (the services' PayPal API base), "
            f"serving the local signer's certificate at\n        {paypal.cert_url}; "
            f"PayPal webhooks signed with the local signer\n        ({key_file}) verify."
        )


@cli.command()
def serve() -> None:
    """Run the services (checkout, webhooks) in the foreground from the environment alone: the
    Supabase URL and keys (MENTORSHIPS_SUPABASE_URL, _ANON_KEY, _SERVICE_ROLE_KEY; `keys` prints
    the local stack's) and the providers' settings. Refuses to start (exit 78) naming each
    variable that is missing."""
    from sync.server import main

    main()


@cli.command()
@click.pass_obj
def down(settings: Settings) -> None:
    """Stop everything `up` started."""
    for name, stopped in Stack(settings).stop():
        click.echo(f"  {name}: {'stopped' if stopped else 'was not running'}")


@cli.group(name="db")
def db_group() -> None:
    """Apply, reset and bundle the project's SQL; check the landed migrations."""


ACCEPT_EDITED = click.option(
    "--accept-edited",
    "accept_edited",
    metavar="FILE",
    multiple=True,
    help="Accept the edit of this landed migration deliberately (a comment that changes nothing "
    "in the database); repeatable.",
)


@db_group.command(name="apply")
@ACCEPT_EDITED
@click.pass_obj
def db_apply(settings: Settings, accept_edited: tuple[str, ...]) -> None:
    """Apply new migrations in order, then sql/rules/, then sql/rls/ (re-runnable).

    Refuses, naming the file, when a migration this database applied was edited or removed
    since (its sha256 is recorded in supabase_migrations.mentorships_checksums)."""
    t = _step("applying migrations, rules and policies")
    new = db.apply(settings, accept_edited=accept_edited)
    _done(t, note=f"{len(new)} new migration(s)")


@db_group.command(name="reset")
@click.confirmation_option(prompt="Drop every table, function and row of the project and re-apply?")
@click.pass_obj
def db_reset(settings: Settings) -> None:
    """Drop the project's schemas and data, then apply everything again."""
    t = _step("resetting the database")
    db.reset(settings)
    new = db.apply(settings)
    _done(t, note=f"{len(new)} migration(s) applied")


@db_group.command(name="bundle")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the migration [default: supabase/migrations].",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; fail, naming the files, when sql/rules + sql/rls differ from the newest "
    "bundle in supabase/migrations (CI runs this).",
)
def db_bundle(out_dir: Path | None, check: bool) -> None:
    """Write sql/rules + sql/rls as one timestamped migration, for `supabase db push`.

    Run it as the last step before committing a change of sql/rules or sql/rls: without a new
    bundle, `supabase db push` deploys nothing of it. In supabase/migrations it also appends the
    new files to supabase/migrations.sha256, and writes nothing when the newest bundle is up to
    date."""
    src = db.PROJECT
    if check:
        newest = db.check_bundle(src)
        click.echo(f"{src.shown(newest.path)} is up to date with sql/rules + sql/rls")
        return
    if out_dir is None or out_dir.resolve() == src.migrations_dir.resolve():
        if db.bundle_difference(src) is None:
            current = db.newest_bundle(src.migrations_dir)
            assert current is not None
            click.echo(f"{src.shown(current.path)} is up to date; nothing written")
            return
        manifest.write_manifest(
            src
        )  # refuses on an edited landed migration before writing anything
        out = db.bundle(src=src)
        manifest.write_manifest(src)
        click.echo(f"wrote {src.shown(out)} (and its line in {src.shown(src.manifest)})")
    else:
        out = db.bundle(out_dir, src=src)
        click.echo(f"wrote {src.shown(out)}")
    click.echo("next: commit it; then `supabase db push` deploys it")


@db_group.command(name="checksums")
@click.option(
    "--check",
    "mode",
    flag_value="check",
    default=True,
    help="Fail, naming the file, when a landed migration changed or went missing, or a new one is "
    "not listed (the default; CI runs this).",
)
@click.option(
    "--write",
    "mode",
    flag_value="write",
    help="Append the migrations not listed yet (lines already there never change).",
)
@ACCEPT_EDITED
def db_checksums(mode: str, accept_edited: tuple[str, ...]) -> None:
    """Check or extend supabase/migrations.sha256, the sha256 of every landed migration
    (`sha256sum -c` reads it too, from supabase/migrations)."""
    src = db.PROJECT
    if mode == "write":
        changed = manifest.write_manifest(src, accept_edited=accept_edited)
        for name in changed:
            click.echo(f"  {name}")
        click.echo(f"{src.shown(src.manifest)}: {len(changed)} line(s) added or accepted")
        return
    if accept_edited:
        raise click.UsageError("--accept-edited goes with --write")
    n = manifest.check_manifest(src)
    click.echo(f"{src.shown(src.manifest)}: all {n} landed migrations unchanged")


@cli.command()
@click.option(
    "--scale",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Multiply mentors and students (1: 6 mentors, 24 students).",
)
@click.option(
    "--random-seed", type=int, default=20261121, show_default=True, help="Same seed, same data."
)
@click.pass_obj
def seed(settings: Settings, scale: int, random_seed: int) -> None:
    """Load demo data: a history played through the real rules at a frozen clock (orders
    through the gateway, signed webhooks to the services, bookings as their students); needs
    `mentorships up`. Replaces earlier demo data; other users are kept."""
    _checkout_on_path()
    from demo.play import run

    summary = run(settings, scale=scale, random_seed=random_seed, progress=click.echo)
    click.echo("seeded: " + ", ".join(f"{n} {k}" for k, n in summary.items()))


@cli.command()
@click.argument("email")
@click.option(
    "--ttl",
    type=click.IntRange(60, 30 * 24 * 3600),
    default=None,
    help="Seconds until it expires [default: MENTORSHIPS_JWT_EXPIRY_SECONDS, 3600].",
)
@click.option(
    "--call",
    "call",
    metavar="SESSION_ID|next",
    default=None,
    help="Print the video call page's URL for this session (or the user's next scheduled one) "
    "with the JWT in its fragment, as the dashboard opens it, instead of the JWT alone.",
)
@click.pass_obj
def token(settings: Settings, email: str, ttl: int | None, call: str | None) -> None:
    """Mint a JWT for the local user EMAIL (Supabase's claim shape)."""
    with db.connect(settings) as conn:
        row = conn.execute(
            "select id, email from auth.users where lower(email) = lower(%s)", (email,)
        ).fetchone()
        if row is None:
            raise StackError(
                f"no local user with email {email!r}; run `mentorships seed`, "
                "or see `mentorships info` for demo users"
            )
        session = None if call is None else _call_session(conn, row[0], email, call)
    token = jwt_.user_token(settings, row[0], row[1], ttl_seconds=ttl)
    if session is None:
        click.echo(token)
    else:
        click.echo(f"{settings.services_url}/video/{session}#access_token={token}")


def _call_session(conn: psycopg.Connection, user: object, email: str, call: str) -> str:
    """The session whose call page `token --call` opens: the one given, or the user's next
    scheduled one that has not ended (by the database's clock)."""
    if call != "next":
        try:
            return str(uuid.UUID(call))
        except ValueError:
            raise click.BadParameter(
                "expected a session id (a UUID) or `next`", param_hint="--call"
            ) from None
    row = conn.execute(
        "select id from public.sessions where %s in (student_id, mentor_id)"
        " and status = 'scheduled' and ends_at > private.clock_now() order by starts_at limit 1",
        (user,),
    ).fetchone()
    if row is None:
        raise StackError(
            f"{email} has no scheduled session ahead; book one, or give --call SESSION_ID"
        )
    return str(row[0])


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
@click.pass_obj
def keys(settings: Settings, as_json: bool) -> None:
    """The local API URL, anon and service-role keys, JWT secret, and what signs webhooks for
    the local services (Stripe webhook secret, PayPal webhook id; in local PayPal mode the
    signer's key file and certificate URL), and the Agora keys video tokens are minted with."""
    stack_services = Stack(settings).services
    services = stack_services.effective_settings()
    paypal = stack_services.local_paypal_signer()
    values = {
        "api_url": settings.gateway_url,
        "anon_key": jwt_.anon_key(settings),
        "service_role_key": jwt_.service_role_key(settings),
        "jwt_secret": settings.jwt_secret.get_secret_value(),
        "db_url": settings.dsn(),
        "services_url": settings.services_url,
        "stripe_webhook_secret": (
            services.stripe_webhook_secret.get_secret_value()
            if services.stripe_webhook_secret
            else ""
        ),
        "paypal_webhook_id": services.paypal_webhook_id or "",
        "paypal_api_base": services.paypal_api_base,
        "paypal_signer_key": str(stack_services.p.paypal_key) if paypal else "",
        "paypal_cert_url": paypal.cert_url if paypal else "",
        "agora_app_id": services.agora_app_id or "",
        "agora_app_certificate": (
            services.agora_app_certificate.get_secret_value()
            if services.agora_app_certificate
            else ""
        ),
    }
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    width = max(len(k) for k in values)
    for k, v in values.items():
        click.echo(f"{k:<{width}} {v}")


@cli.command()
@click.option(
    "--show",
    "show",
    metavar="N|KEY",
    help="Print one message whole: its number in the list (1 = newest) or its file name.",
)
@click.option(
    "--channel", type=click.Choice(["email", "discord"]), help="Only this channel's messages."
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10000),
    default=20,
    show_default=True,
    help="How many to list.",
)
@click.option(
    "--tz",
    "tz",
    metavar="ZONE",
    default=None,
    help="Show times in this IANA zone [default: the local zone].",
)
@click.pass_obj
def mail(
    settings: Settings, show: str | None, channel: str | None, limit: int, tz: str | None
) -> None:
    """What the local stack delivered in local mode (no provider key set): the emails (.eml)
    and Discord messages (.json) the outbox dispatcher wrote to the mail folder
    (.local/<stack>/mail, or MENTORSHIPS_MAIL_DIR), newest first: when (in your zone, named),
    channel, recipient, subject or first line."""
    from mentorships.mail import listing, one_message, zone_of

    folder = Stack(settings).worker.mail_dir
    zone = zone_of(tz)
    if show is not None:
        click.echo(one_message(folder, show, zone, channel))
        return
    click.echo(listing(folder, zone, channel, limit))


@cli.group(name="gcal")
def gcal_group() -> None:
    """Google Calendar: the mentors' sealed refresh tokens."""


@gcal_group.command(name="rotate-key")
@click.pass_obj
def gcal_rotate_key(settings: Settings) -> None:
    """Re-seal every stored Google refresh token under the newest key.

    Add the new key to MENTORSHIPS_GOOGLE_TOKEN_KEYS with a higher version (e.g.
    "2:<new>,1:<old>"), restart the services (they seal with the newest and still open the old),
    run this, then drop the old key. It reads the services' settings: MENTORSHIPS_SUPABASE_URL and
    the service-role key when set, else the local stack's. Idempotent: a second run finds nothing
    to re-seal; a token changed meanwhile (a reconnect) is left as it is.
    """
    import asyncio

    from mentorships.stack.services import Services
    from sync import rest
    from sync import settings as service_settings
    from sync.gcal.rotate import rotate
    from sync.gcal.sealing import SealError, TokenKeys

    try:
        if os.environ.get("MENTORSHIPS_SUPABASE_URL"):
            target = service_settings.load()
        else:
            target = Services(settings).service_settings()
        keys = TokenKeys.from_settings(target)
    except (service_settings.ConfigError, SealError) as e:
        raise StackError(str(e)) from None

    async def run() -> dict[str, int]:
        async with rest.session() as http:
            return await rotate(keys, rest.Rest(target, http), progress=click.echo)

    click.echo(f"re-sealing Google refresh tokens under key version {keys.newest} ...")
    counts = asyncio.run(run())
    click.echo(
        f"done: {counts['resealed']} re-sealed, {counts['skipped']} changed meanwhile, "
        f"{counts['failed']} could not be opened"
    )
    if counts["failed"]:
        click.echo(
            "Some tokens are sealed under a key no longer in MENTORSHIPS_GOOGLE_TOKEN_KEYS: add "
            "it back and run this again.",
            err=True,
        )
        sys.exit(1)


@cli.command()
@click.pass_obj
def info(settings: Settings) -> None:
    """URLs, keys, demo users and three curl lines that work."""
    from mentorships.info import info_text

    click.echo(info_text(settings))


from mentorships.cli_ops import logs, status  # noqa: E402
from mentorships.reports import reports_group  # noqa: E402

cli.add_command(reports_group)
cli.add_command(status)
cli.add_command(logs)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except StackError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
