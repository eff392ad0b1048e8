"""`mentorships status` and `mentorships logs`: what runs where with the platform's health
figures (public.ops_health), and the local stack's logs, merged and followed."""

from __future__ import annotations

import dataclasses
import json
import sys
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from mentorships import logs as logs_
from mentorships.log_lines import Entry, readable
from mentorships.mail import local_zone
from mentorships.settings import Settings
from mentorships.stack import Stack
from mentorships.stack.health import describe, lagging


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or local_zone())
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise click.BadParameter(
            f"{name!r} is not an IANA time zone name such as Europe/Berlin"
        ) from e


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable: components and figures.")
@click.option(
    "--tz", "tz", metavar="ZONE", help="Show times in this zone (default: the machine's)."
)
@click.pass_obj
def status(settings: Settings, as_json: bool, tz: str | None) -> None:
    """What runs where, healthy or not, then the platform's health figures (public.ops_health,
    read through the gateway with the service-role key): outbox depth and the oldest due
    message's wait, failed messages, calendar sync lag, report build age, webhooks by outcome.
    Exit status 1 when something is down."""
    zone = _zone(tz)
    stack = Stack(settings)
    rows = stack.status()
    health = stack.health(rows)
    down = not all(r.healthy for r in rows)
    if as_json:
        figures = health.figures
        click.echo(
            json.dumps(
                {
                    "stack": settings.stack,
                    "healthy": not down,
                    "components": [dataclasses.asdict(r) for r in rows],
                    "health": figures,
                    "health_error": health.error or None,
                    "calendar_sync_interval_seconds": health.sync_interval_seconds,
                    "calendar_lagging": len(lagging(figures, health.sync_interval_seconds))
                    if figures
                    else None,
                },
                indent=2,
            )
        )
    else:
        width = max(len(r.address) for r in rows)
        click.echo(f"stack `{settings.stack}`:")
        for r in rows:
            state = "healthy" if r.healthy else ("UNHEALTHY" if r.running else "stopped")
            click.echo(f"  {r.name:<10} {r.address:<{width}}  {state:<9} {r.detail}")
            for extra in r.lines:
                click.echo(f"  {'':<10} {extra}")
        for line in describe(health, zone):
            click.echo(line)
        if down:
            click.echo("Start what is stopped with `mentorships up`.")
    if down:
        sys.exit(1)


@click.command()
@click.argument("component", required=False, type=click.Choice(logs_.COMPONENTS))
@click.option("-n", "lines", default=50, show_default=True, help="How many lines to show first.")
@click.option(
    "--follow/--no-follow",
    "-f",
    "follow",
    default=True,
    show_default=True,
    help="Go on printing lines as they are written (like tail -f); stop with Ctrl-C.",
)
@click.option("--json", "as_json", is_flag=True, help="Each line as JSON in the common shape.")
@click.option(
    "--tz", "tz", metavar="ZONE", help="Show times in this zone (default: the machine's)."
)
@click.pass_obj
def logs(
    settings: Settings,
    component: str | None,
    lines: int,
    follow: bool,
    as_json: bool,
    tz: str | None,
) -> None:
    """The local stack's logs: the last -n lines of every component merged by time (or of
    COMPONENT alone), then followed.

    \b
    Each line is read in the common shape (ts, level, component, logger, msg, request_id; for
    a request method, path, status, duration_ms, client): PostgREST's plain lines, nginx's
    and Streamlit's are converted as they are read. Shown as: time in your zone (named),
    component, level, request id, message; --json prints the JSON instead.

    \b
      mentorships logs                      everything, followed
      mentorships logs dispatcher -n 200 --no-follow
      mentorships logs gateway --json | jq 'select(.status >= 500)'
    """
    if lines < 0:
        raise click.BadParameter("-n must be 0 or more", param_hint="-n")
    zone = _zone(tz)
    files = logs_.open_files(settings, (component,) if component else logs_.COMPONENTS)

    def show(entry: Entry) -> None:
        click.echo(json.dumps(entry, default=str) if as_json else readable(entry, zone))

    if not as_json:
        click.echo(f"# stack `{settings.stack}`, times in {zone.key}", err=True)
    for entry in logs_.tail(files, lines):
        show(entry)
    if not follow:
        return
    try:
        for entry in logs_.follow(files):
            show(entry)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return
