"""Purchases the way production makes them, replayed at the instants a storyline says.

The demo seed (mentorships.seed) creates every order and payment of its storylines through the
running stack, never by writing those rows itself:

- the student's order: `POST {rest_url}/rpc/create_order` through the gateway with the student's
  own JWT (pricing, promotion codes, grandfathered prices and the seat hold are the database's);
- the provider's answer: an event built and signed exactly as Stripe or PayPal build and sign it
  (sync.signing), POSTed to the running services app (`/webhooks/stripe`, `/webhooks/paypal`),
  which verifies it and records it through public.record_payment_event. Stripe events are signed
  with the services' webhook secret; PayPal events with the stack's local PayPal signer, whose
  certificate the stack serves as PayPal's host (mentorships.stack.Services.local_paypal_signer;
  local stacks on placeholder PayPal keys only);
- a PayPal checkout that ran out: the pg_cron job function that releases holds in production
  (private.expire_holds()), run once at that instant.

While a replay runs, the database clock (private.clock) is frozen at each step's instant and the
project's pg_cron jobs are paused (a job running on a clock frozen in the past would act on half
a history). Both are put back afterwards whatever happens; a marker file in the stack's state
folder lets the next run put them back after a seed that was killed outright.

Every step is checked: the gateway answers 200, each webhook answers 200 with the outcome the
storyline expects (fulfilled, flagged, refunded, ...); otherwise the seed stops with an error
naming the storyline and the answer.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, LiteralString

import httpx
import psycopg

from mentorships import db
from mentorships import jwt as jwt_
from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack import Stack, paths
from sync import money
from testing import events as signing

# Stripe refuses a Checkout Session that expires sooner than this after it is created; the
# database holds a Stripe order's seat at least as long (private.create_order).
STRIPE_MIN_CHECKOUT_MINUTES = 32

# One seed at a time per database (a session-level advisory lock).
_SEED_LOCK = 0x5EED_DE30

_TIMEOUT = httpx.Timeout(30, connect=5)
# How long the first order waits for PostgREST's schema cache (see Replay.create_order).
_SCHEMA_CACHE_WAIT = 15.0


def _schema_cache_loading(response: httpx.Response) -> bool:
    """PostgREST's answer while its schema cache is (re)loading: the function is not in the
    cache yet (404 PGRST202) or there is no cache yet (503 PGRST002)."""
    if response.status_code not in (404, 503):
        return False
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return False
    return code in ("PGRST202", "PGRST002")


def _wall(conn: psycopg.Connection) -> dt.datetime:
    row = conn.execute("select clock_timestamp()").fetchone()
    assert row is not None
    value: dt.datetime = row[0]
    return value


def require_stack(settings: Settings) -> None:
    """Refuses, before anything is written, when the gateway or the services app is not
    answering (every purchase goes through both), when the services run with other settings
    than this stack's (they would not verify what the seed signs), or when the local PayPal
    certificate host does not serve the local signer's certificate."""
    address = f"{settings.host}:{settings.services_port}"
    try:
        r = httpx.get(f"{settings.services_url}/health", timeout=3)
    except httpx.HTTPError:
        raise StackError(
            f"the services app is not running on {address}; run `mentorships up` "
            "(the demo's purchases are webhooks posted to it)"
        ) from None
    if r.status_code != 200:
        raise StackError(
            f"the services app on {address} answered /health with HTTP {r.status_code}; "
            "restart it with `mentorships down && mentorships up`"
        )
    try:
        r = httpx.get(
            f"{settings.rest_url}/", headers={"apikey": jwt_.anon_key(settings)}, timeout=3
        )
    except httpx.HTTPError:
        raise StackError(
            f"the API gateway is not running on {settings.gateway_url}; run `mentorships up` "
            "(the demo's orders go through it)"
        ) from None
    if r.status_code != 200:
        raise StackError(
            f"the API gateway at {settings.rest_url}/ answered HTTP {r.status_code}; "
            "run `mentorships status` to see what is unhealthy"
        )
    services = Stack(settings).services
    started_with = services.p.services_env
    if (
        services.pid() is not None
        and started_with.exists()
        and started_with.read_text() != services.config()
    ):
        raise StackError(
            f"the services app on {address} runs with other settings than this stack's now "
            f"({started_with.relative_to(PROJECT_DIR)} differs: another environment, or a "
            "local PayPal signer it has not seen); restart it with `mentorships up`"
        )
    local = services.local_paypal_signer()
    if local is not None:
        try:
            r = httpx.get(local.cert_url, timeout=3)
        except httpx.HTTPError:
            raise StackError(
                f"the local PayPal certificate host {local.cert_url} is not answering (the "
                "services download the signer's certificate there); run `mentorships up`"
            ) from None
        if r.status_code != 200 or r.content != local.signer.cert_pem:
            raise StackError(
                f"the local PayPal certificate host {local.cert_url} answered HTTP "
                f"{r.status_code} without this stack's PayPal certificate; run `mentorships up`"
            )


# --- what the providers send -----------------------------------------------------------------


def _hex(key: uuid.UUID, what: str, length: int) -> str:
    """Stable hex digits for a provider id (the demo is the same every run)."""
    digits = uuid.uuid5(key, what).hex + uuid.uuid5(key, what + "/2").hex
    return digits[:length]


def stripe_ids(key: uuid.UUID) -> dict[str, str]:
    return {
        "session": "cs_test_" + _hex(key, "checkout", 58),
        "payment_intent": "pi_" + _hex(key, "payment_intent", 24),
    }


def paypal_ids(key: uuid.UUID) -> dict[str, str]:
    return {
        "order": _hex(key, "paypal-order", 17).upper(),
        "capture": _hex(key, "capture", 17).upper(),
    }


@dataclass(frozen=True)
class PayPalSigning:
    signer: signing.PayPalSigner
    webhook_id: str
    cert_url: str
    api_base: str


@dataclass(frozen=True)
class Signing:
    """What signs webhooks for the running services: this stack's Stripe webhook secret, and
    the PayPal webhook id with a signer whose certificate the services can download."""

    providers: tuple[str, ...]
    stripe_secret: str | None
    paypal: PayPalSigning | None


def signing_for(settings: Settings, paypal: signing.PayPalCert | None = None) -> Signing:
    """The services' own webhook secrets (mentorships.stack.Services: the environment's, else
    the stack's local ones). PayPal events need a signer whose certificate the services download
    from their PayPal API host: `paypal` when given, else the stack's local one (local PayPal
    mode: placeholder PayPal keys). With real PayPal keys there is none (PayPal's own
    certificate signs real events), and only Stripe is used."""
    services = Stack(settings).services
    effective = services.effective_settings()
    if paypal is None:
        paypal = services.local_paypal_signer()
    secret = effective.stripe_webhook_secret
    enabled = effective.payment_providers
    pp = None
    if "paypal" in enabled and paypal is not None and effective.paypal_webhook_id is not None:
        pp = PayPalSigning(
            paypal.signer, effective.paypal_webhook_id, paypal.cert_url, effective.paypal_api_base
        )
    providers = tuple(
        p
        for p in enabled
        if (p == "stripe" and secret is not None) or (p == "paypal" and pp is not None)
    )
    return Signing(providers, secret.get_secret_value() if secret else None, pp)


# --- the replay ----------------------------------------------------------------------------------


@dataclass
class Counts:
    orders: int = 0
    webhooks: dict[str, int] = field(default_factory=dict)
    cron_ticks: int = 0
    steps: int = 0

    def outcome(self, name: str) -> None:
        self.webhooks[name] = self.webhooks.get(name, 0) + 1


class Replay:
    """Runs purchase steps against the running stack, each at its own frozen instant.

    with Replay(settings) as r:
        r.at(t); order = r.create_order(...)
        r.at(t2); r.stripe_paid(...)

    `log` keeps, per step, the wall-clock time it started and the instant it played at, so rows
    the database stamped with now() can be re-dated to the storyline afterwards."""

    def __init__(self, settings: Settings, signing_: Signing) -> None:
        self.settings = settings
        self.signing = signing_
        self.counts = Counts()
        self.log: list[tuple[dt.datetime, dt.datetime]] = []
        self.ended_at: dt.datetime | None = None
        self._conn: psycopg.Connection | None = None
        self._http: httpx.Client | None = None
        self._clock_before: dt.datetime | None = None
        self._paused: list[str] = []
        self._marker = paths(settings).state / "seed-in-progress.json"
        self._frozen = False
        self.recovered = False  # put back what a killed seed had left frozen or paused

    # setting up and putting back ------------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection:
        assert self._conn is not None, "use Replay as a context manager"
        return self._conn

    @property
    def http(self) -> httpx.Client:
        assert self._http is not None, "use Replay as a context manager"
        return self._http

    def __enter__(self) -> Replay:
        cm = db.connect(self.settings)
        self._cm = cm
        self._conn = cm.__enter__()
        try:
            row = self.conn.execute("select pg_try_advisory_lock(%s)", (_SEED_LOCK,)).fetchone()
            if row is None or not row[0]:
                raise StackError(
                    "another `mentorships seed` is running on this stack; wait for it to finish"
                )
            self._recover()
            self._pause()
        except BaseException:
            self._close()
            raise
        self._http = httpx.Client(timeout=_TIMEOUT)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.restore_clock()
            self._resume()
            self._marker.unlink(missing_ok=True)
        finally:
            self._close()

    def _close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._conn is not None:
            self._cm.__exit__(None, None, None)
            self._conn = None

    def _recover(self) -> None:
        """Puts back what a seed that was killed outright left frozen or paused."""
        try:
            left = json.loads(self._marker.read_text())
        except FileNotFoundError:
            return
        except ValueError:
            left = {}
        clock = left.get("clock")
        self.conn.execute(
            "update private.clock set frozen_at = %s",
            (dt.datetime.fromisoformat(clock) if clock else None,),
        )
        jobs = [str(j) for j in left.get("paused_jobs", [])]
        if jobs:
            self.conn.execute("update cron.job set active = true where jobname = any(%s)", (jobs,))
        self._marker.unlink(missing_ok=True)
        self.recovered = True

    def _pause(self) -> None:
        row = self.conn.execute("select frozen_at from private.clock").fetchone()
        self._clock_before = row[0] if row else None
        has_cron = self.conn.execute("select to_regclass('cron.job') is not null").fetchone()
        jobs: list[str] = []
        if has_cron and has_cron[0]:
            jobs = [
                str(r[0])
                for r in self.conn.execute(
                    "select jobname from cron.job where active and database = current_database()"
                    " and jobname is not null order by jobname"
                )
            ]
        # Written before anything changes, so a run killed from here on can be undone.
        self._marker.parent.mkdir(parents=True, exist_ok=True)
        self._marker.write_text(
            json.dumps(
                {
                    "clock": self._clock_before.isoformat() if self._clock_before else None,
                    "paused_jobs": jobs,
                }
            )
        )
        if jobs:
            self.conn.execute("update cron.job set active = false where jobname = any(%s)", (jobs,))
            self._paused = jobs
            # a job that started just before the pause finishes on the real clock
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                row = self.conn.execute(
                    "select count(*) from cron.job_run_details where status in"
                    " ('starting', 'running') and start_time > now() - interval '1 minute'"
                ).fetchone()
                if row is None or row[0] == 0:
                    break
                time.sleep(0.05)

    def _resume(self) -> None:
        if self._paused:
            self.conn.execute(
                "update cron.job set active = true where jobname = any(%s)", (self._paused,)
            )
            self._paused = []

    def restore_clock(self) -> None:
        """The clock as it was before the replay (normally: not frozen)."""
        if self._frozen:
            self.ended_at = _wall(self.conn)
            self.conn.execute("update private.clock set frozen_at = %s", (self._clock_before,))
            self._frozen = False

    # steps ---------------------------------------------------------------------------------------

    def at(self, instant: dt.datetime) -> None:
        """Freezes the database clock at `instant` for the next step."""
        row = self.conn.execute(
            "update private.clock set frozen_at = %s returning clock_timestamp()", (instant,)
        ).fetchone()
        assert row is not None
        self._frozen = True
        self.log.append((row[0], instant))
        self.counts.steps += 1

    def token(self, user_id: uuid.UUID, email: str) -> str:
        """A fresh token per call (a long replay outlives a token's hour)."""
        return jwt_.user_token(self.settings, user_id, email)

    def create_order(
        self,
        story: str,
        *,
        student_id: uuid.UUID,
        email: str,
        product_id: uuid.UUID,
        provider: str,
        promo_code: str | None,
    ) -> dict[str, Any]:
        """public.create_order as the student, through the gateway. Until the first order
        went through, PostgREST may still be loading its schema cache (`db apply`, which runs
        just before the seed in `make demo`, ends by asking it to): that is waited out."""
        url = f"{self.settings.rest_url}/rpc/create_order"
        deadline = time.monotonic() + (0 if self.counts.orders else _SCHEMA_CACHE_WAIT)
        while True:
            response = self.http.post(
                url,
                json={
                    "product_id": str(product_id),
                    "provider": provider,
                    "promo_code": promo_code,
                },
                headers={
                    "apikey": jwt_.anon_key(self.settings),
                    "Authorization": f"Bearer {self.token(student_id, email)}",
                },
            )
            if not _schema_cache_loading(response) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if response.status_code != 200:
            hint = (
                " (is the SQL applied? run `mentorships db apply`)"
                if _schema_cache_loading(response)
                else ""
            )
            raise StackError(
                f"seed: {story}: POST {url} as {email} answered HTTP {response.status_code} "
                f"{response.text[:400]}{hint}"
            )
        order: dict[str, Any] = response.json()
        self.counts.orders += 1
        return order

    def _post_webhook(
        self,
        story: str,
        provider: str,
        event_type: str,
        body: bytes,
        headers: dict[str, str],
        expect: str,
    ) -> dict[str, Any]:
        url = f"{self.settings.services_url}/webhooks/{provider}"
        try:
            response = self.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise StackError(
                f"seed: {story}: POST {url} ({event_type}) failed: {e!r}. Is the services app "
                "still running? See `mentorships status`"
            ) from e
        answer: Any = None
        with suppress(ValueError):
            answer = response.json()
        outcome = answer.get("outcome") if isinstance(answer, dict) else None
        if response.status_code != 200 or outcome != expect:
            raise StackError(
                f"seed: {story}: POST {url} ({event_type}) answered HTTP {response.status_code} "
                f"{response.text[:400]}; expected 200 with outcome {expect!r}"
            )
        self.counts.outcome(outcome)
        assert isinstance(answer, dict)
        return answer

    # Stripe

    def stripe(
        self,
        story: str,
        event_type: str,
        obj: dict[str, Any],
        *,
        event_key: uuid.UUID,
        instant: dt.datetime,
        expect: str,
    ) -> dict[str, Any]:
        secret = self.signing.stripe_secret
        if secret is None:
            raise StackError(f"seed: {story}: no Stripe webhook secret for the services")
        event = signing.stripe_event(
            event_type,
            obj,
            event_id="evt_" + _hex(event_key, event_type, 24),
            created=int(instant.timestamp()),
        )
        body = signing.encode(event)
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": signing.sign_stripe(body, secret),
        }
        return self._post_webhook(story, "stripe", event_type, body, headers, expect)

    # PayPal

    def paypal(
        self,
        story: str,
        event_type: str,
        resource: dict[str, Any],
        *,
        resource_type: str,
        summary: str,
        event_key: uuid.UUID,
        instant: dt.datetime,
        expect: str,
    ) -> dict[str, Any]:
        pp = self.signing.paypal
        if pp is None:
            raise StackError(f"seed: {story}: no PayPal signer for the services")
        event_id = (
            f"WH-{_hex(event_key, event_type, 16).upper()}-{_hex(event_key, 'wh', 16).upper()}"
        )
        event = signing.paypal_event(
            event_type,
            resource,
            resource_type=resource_type,
            summary=summary,
            event_id=event_id,
            create_time=signing.paypal_transmission_time(instant),
            api_base=pp.api_base,
        )
        body = signing.encode(event)
        headers = pp.signer.headers(body, webhook_id=pp.webhook_id, cert_url=pp.cert_url)
        return self._post_webhook(story, "paypal", event_type, body, headers, expect)

    def paypal_api_base(self) -> str:
        pp = self.signing.paypal
        return pp.api_base if pp else self.settings.paypal_api_base

    # What the storylines need -------------------------------------------------------------------

    def paid(
        self,
        story: str,
        order: dict[str, Any],
        *,
        key: uuid.UUID,
        amount_cents: int,
        instant: dt.datetime,
        expect: str = "fulfilled",
    ) -> dict[str, Any]:
        """The provider's "payment completed" for the order: Stripe checkout.session.completed
        or PayPal PAYMENT.CAPTURE.COMPLETED, for `amount_cents` (the order's, unless the story
        is about a wrong amount)."""
        order_id, currency = str(order["id"]), str(order["currency"])
        if order["provider"] == "stripe":
            ids = stripe_ids(key)
            session = signing.stripe_checkout_session(
                order_id=order_id,
                amount_total=amount_cents,
                currency=currency,
                session_id=ids["session"],
                payment_intent=ids["payment_intent"],
                expires_at=int(dt.datetime.fromisoformat(order["expires_at"]).timestamp()),
            )
            return self.stripe(
                story,
                "checkout.session.completed",
                session,
                event_key=key,
                instant=instant,
                expect=expect,
            )
        pids = paypal_ids(key)
        capture = signing.paypal_capture(
            order_id=order_id,
            paypal_order_id=pids["order"],
            amount_cents=amount_cents,
            currency=currency,
            capture_id=pids["capture"],
            api_base=self.paypal_api_base(),
        )
        value = money.to_decimal_string(amount_cents, currency)
        return self.paypal(
            story,
            "PAYMENT.CAPTURE.COMPLETED",
            capture,
            resource_type="capture",
            summary=f"Payment completed for {value} {currency.upper()}",
            event_key=key,
            instant=instant,
            expect=expect,
        )

    def refunded(
        self,
        story: str,
        order: dict[str, Any],
        *,
        key: uuid.UUID,
        paid_cents: int,
        refund_cents: int,
        refunded_total: int,
        instant: dt.datetime,
        expect: str,
    ) -> dict[str, Any]:
        """A refund of `refund_cents` (`refunded_total` refunded in all): Stripe charge.refunded
        or PayPal PAYMENT.CAPTURE.REFUNDED."""
        order_id, currency = str(order["id"]), str(order["currency"])
        event_key = uuid.uuid5(key, f"refund:{refunded_total}")
        if order["provider"] == "stripe":
            charge = signing.stripe_charge(
                order_id=order_id,
                amount=paid_cents,
                amount_refunded=refunded_total,
                currency=currency,
                payment_intent=stripe_ids(key)["payment_intent"],
                charge_id="ch_" + _hex(key, "charge", 24),
            )
            return self.stripe(
                story,
                "charge.refunded",
                charge,
                event_key=event_key,
                instant=instant,
                expect=expect,
            )
        refund = signing.paypal_refund(
            order_id=order_id,
            capture_id=paypal_ids(key)["capture"],
            amount_cents=refund_cents,
            currency=currency,
            total_refunded_cents=refunded_total,
            refund_id=_hex(event_key, "refund", 17).upper(),
            api_base=self.paypal_api_base(),
        )
        value = money.to_decimal_string(refund_cents, currency)
        return self.paypal(
            story,
            "PAYMENT.CAPTURE.REFUNDED",
            refund,
            resource_type="refund",
            summary=f"A {value} {currency.upper()} capture payment was refunded",
            event_key=event_key,
            instant=instant,
            expect=expect,
        )

    def checkout_ended(
        self, story: str, order: dict[str, Any], *, key: uuid.UUID, instant: dt.datetime
    ) -> None:
        """An unpaid checkout runs out: Stripe sends checkout.session.expired; a PayPal order
        has no such event, the hold job releases it (private.expire_holds, as pg_cron does)."""
        if order["provider"] == "stripe":
            session = signing.stripe_checkout_session(
                order_id=str(order["id"]),
                amount_total=int(order["amount_cents"]),
                currency=str(order["currency"]),
                session_id=stripe_ids(key)["session"],
                payment_status="unpaid",
                status="expired",
                expires_at=int(instant.timestamp()),
            )
            self.stripe(
                story,
                "checkout.session.expired",
                session,
                event_key=key,
                instant=instant,
                expect="released",
            )
            return
        self.expire_holds()
        row = self.conn.execute(
            "select status::text from public.orders where id = %s", (order["id"],)
        ).fetchone()
        if row is None or row[0] != "expired":
            raise StackError(
                f"seed: {story}: the hold job left order {order['id']} "
                f"{row[0] if row else 'missing'}, expected expired"
            )

    def expire_holds(self) -> int:
        """One run of the hold job at the frozen instant."""
        row = self.conn.execute("select private.expire_holds()").fetchone()
        self.counts.cron_ticks += 1
        return int(row[0]) if row else 0

    def execute(self, statement: LiteralString, params: tuple[Any, ...] = ()) -> int:
        """A superuser statement at the frozen instant; how many rows it changed."""
        return self.conn.execute(statement, params).rowcount

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        with self.conn.transaction(), self.conn.cursor() as cur:
            yield cur
