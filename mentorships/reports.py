"""`mentorships reports build|docs`: the dbt project (dbt/) against the stack's database, each
build recorded in public.report_runs through the rules (sql/rules/reports.sql)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time

import click

from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack.reports_worker import ReportsWorker
from sync.reports import dbt, runs

DOCS_PORT = 8580
WAIT_POLL_SECONDS = 2


@click.group(name="reports")
def reports_group() -> None:
    """The reports: dbt models in the `analytics` schema (admins read them through the API with
    Accept-Profile: analytics, the analyst role in SQL)."""


@reports_group.command(
    name="build",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option(
    "--select",
    "-s",
    "select",
    multiple=True,
    metavar="SELECTOR",
    help="dbt's --select (repeatable), e.g. `--select marts.revenue_daily+`; default every model.",
)
@click.option(
    "--trigger",
    type=click.Choice(["command", "demo"]),
    default="command",
    show_default=True,
    help="What report_runs records as the run's trigger (`make demo` passes demo).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="When another build is running, wait for it to end, then build (`make demo` does).",
)
@click.pass_context
def build(ctx: click.Context, select: tuple[str, ...], trigger: str, wait: bool) -> None:
    """Run `dbt build` (models, then their tests) against the stack's database, dbt's lines
    streamed, and record the run in public.report_runs (start, end, outcome, rows per mart).
    Other arguments go to dbt as they are (e.g. `--full-refresh`, `--exclude X`). Exit status 1
    when the build fails (dbt's errors shown) or another build is running (unless --wait)."""
    settings: Settings = ctx.obj
    args = [*(a for s in select for a in ("--select", s)), *ctx.args]
    place = ReportsWorker(settings).place
    worker = f"{socket.gethostname()}:{os.getpid()}:{trigger}"
    click.echo(
        f"building the reports on {settings.host}:{settings.db_port} (`dbt build {' '.join(args)}`)"
    )
    started = time.monotonic()
    waiting_for = None
    while True:
        try:
            done = runs.build_once(
                settings.dsn(),
                worker=worker,
                trigger=trigger,
                args=args,
                place=place,
                on_line=click.echo,
            )
        except FileNotFoundError as e:
            raise StackError(f"dbt is not installed ({e.filename}); run `make setup`") from None
        live = None if done is not None else runs.live(settings.dsn())
        if done is not None or not wait:
            break
        if live is not None and live.id != waiting_for:
            waiting_for = live.id
            click.echo(f"waiting for run #{live.id} ({live.trigger}, by {live.claimed_by}) to end")
        time.sleep(WAIT_POLL_SECONDS)
    if done is None:
        who = (
            f"run #{live.id} by {live.claimed_by} since {live.started_at:%Y-%m-%d %H:%M %Z}"
            if live
            else "another run"
        )
        raise StackError(f"another build of the reports is running ({who}); try again when it ends")
    run, result = done
    click.echo(result.summary())
    marts = run.rows_per_mart or {}
    click.echo(
        f"run #{run.id} {run.outcome} in {time.monotonic() - started:.1f} s; "
        f"{len(marts)} table(s) in analytics"
        + (": " + ", ".join(f"{m} {n}" for m, n in marts.items()) if marts else "")
    )
    if not result.ok:
        click.echo(f"error: {run.error}", err=True)
        sys.exit(1)


@reports_group.command(name="docs")
@click.option(
    "--port",
    type=click.IntRange(1024, 65535),
    default=DOCS_PORT,
    show_default=True,
    help="Where dbt serves the docs site, on 127.0.0.1.",
)
@click.pass_obj
def docs(settings: Settings, port: int) -> None:
    """Generate dbt's docs site (models, columns, tests, lineage, from the stack's database) and
    serve it on http://127.0.0.1:PORT until Ctrl-C."""
    place = ReportsWorker(settings).place
    env = dbt.environment(settings.dsn(), place)
    try:
        subprocess.run(
            dbt.command(place, "docs", "generate"), env=env, cwd=place.project_dir, check=True
        )
    except FileNotFoundError as e:
        raise StackError(f"dbt is not installed ({e.filename}); run `make setup`") from None
    except subprocess.CalledProcessError:
        raise StackError("dbt docs generate failed (its errors are above)") from None
    click.echo(f"serving the reports' docs on http://127.0.0.1:{port}/ (Ctrl-C stops it)")
    serve = dbt.command(
        place, "docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"
    )
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(serve, env=env, cwd=place.project_dir, check=False)
