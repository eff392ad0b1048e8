"""The stage the storylines play on: the running stack, its clock frozen at each instant, and the
calls the people make there. Students and mentors call the RPCs as themselves (SQL with their
JWT claims, as PostgREST sets them); orders go through the gateway and payments come back as
signed provider webhooks to the running services; the pg_cron job functions run as the clock
moves, and the real outbox dispatcher delivers each message when it falls due (demo/delivery.py).
A marker file lets the next run put back the clock, the jobs and the stack's dispatcher of a run
that was killed.

The stack's own dispatcher (`mentorships up` starts it) is stopped while a run plays and started
again afterwards: it polls, and with the clock frozen in the past by share_clock it would claim
the messages due at that instant too, racing the run's own drains; those deliver every message
at its instant and attribute it to `<stack>-seed` in claimed_by.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, LiteralString

import httpx
import psycopg

from demo.delivery import Delivery
from mentorships import jwt as jwt_
from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack import GcalWorker, PayPalCert, Worker, paths
from testing import events

_LOCK = 0x5EED_DE30  # one demo run at a time per database
UTC = dt.UTC


class Refused(Exception):
    """A rule said no: the refusal's code (e.g. PT409) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class Signing:
    """What signs webhooks for the running services: their Stripe webhook secret, and the
    PayPal webhook id with a signer whose certificate they download."""

    providers: tuple[str, ...]
    stripe_secret: str | None
    paypal: PayPalCert | None
    paypal_webhook_id: str | None
    paypal_api_base: str


# PayPal's resource type and summary line of each event the demo sends
_PAYPAL_SUMMARIES = {
    "PAYMENT.CAPTURE.COMPLETED": ("capture", "Payment completed for {value} {currency_code}"),
    "PAYMENT.CAPTURE.REFUNDED": (
        "refund",
        "A {value} {currency_code} capture payment was refunded",
    ),
}


def _hex(key: uuid.UUID, what: str, length: int) -> str:
    return (uuid.uuid5(key, what).hex + uuid.uuid5(key, what + "/2").hex)[:length]


class Stage:
    def __init__(self, settings: Settings, signing: Signing) -> None:
        self.settings, self.signing = settings, signing
        self.now = dt.datetime(2000, 1, 1, tzinfo=UTC)  # moves forward only
        self.next_tick: dt.datetime | None = None  # pg_cron's next minute (once an hour)
        self.next_due: dt.datetime | None = None  # when the next pending message falls due
        self.counts: dict[str, int] = {}
        self.blocked_bot: uuid.UUID | None = None  # a student who blocked the Discord bot
        self._marker = paths(settings).state / "seed-in-progress.json"
        self._worker = Worker(settings)
        self._gcal = GcalWorker(settings)
        self.calendars: Any = (
            None  # demo.calendars.Calendars once mentors connected: synced each hour
        )
        self.delivery: Delivery | None = None
        self._shared = True
        self._saved: dict[str, Any] = {}
        self.recovered = False

    # the run: lock, pause the jobs, put everything back -------------------------------------

    def __enter__(self) -> Stage:
        self.conn = psycopg.connect(self.settings.dsn(), autocommit=True)
        self.http = httpx.Client(timeout=httpx.Timeout(30, connect=5))
        try:
            if not self.one("select pg_try_advisory_lock(%s)", (_LOCK,)):
                raise StackError("another `mentorships seed` is running on this stack; wait for it")
            killed = self._recover()
            self._saved = {
                "clock": self.one("select frozen_at::text from private.clock"),
                "paused_jobs": [
                    r[0]
                    for r in self.conn.execute(
                        "select jobname from cron.job where active and database = current_database()"
                    )
                ],
                # a killed run stopped it: it runs again after this one
                "worker": self._worker.pid() is not None or bool(killed.get("worker")),
                "gcal": self._gcal.pid() is not None or bool(killed.get("gcal")),
            }
            self._marker.parent.mkdir(parents=True, exist_ok=True)
            self._marker.write_text(json.dumps(self._saved))  # before anything changes
            self.conn.execute(
                "update cron.job set active = false where jobname = any(%s)",
                (self._saved["paused_jobs"],),
            )
            self._worker.stop()  # waits until it has reported what it had in flight
            self._gcal.stop()  # the calendar sync too: it would claim at the frozen clock
            self.conn.execute("set synchronous_commit = off")  # a replayable run, not payments
            self.delivery = Delivery(self.settings)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """The clock as it was (normally running), the jobs active again, the stack's
        dispatcher running again if it was."""
        try:
            if self.delivery is not None:
                self.delivery.close()
        finally:
            try:
                if self._saved and not self.conn.closed:
                    self._put_back(self._saved)
                    if self._saved.get("worker"):
                        self._worker.start()
                    if self._saved.get("gcal"):
                        self._gcal.start()
            finally:
                self.http.close()
                self.conn.close()

    def _put_back(self, saved: dict[str, Any]) -> None:
        self.conn.execute(
            "update private.clock set frozen_at = %s::timestamptz", (saved.get("clock"),)
        )
        self.conn.execute(
            "update cron.job set active = true where jobname = any(%s)",
            (list(saved.get("paused_jobs", [])),),
        )
        self._marker.unlink(missing_ok=True)

    def _recover(self) -> dict[str, Any]:
        """Puts back what a run that was killed left frozen and paused; answers what it saved
        (its dispatcher is started again when this run ends)."""
        try:
            killed: dict[str, Any] = json.loads(self._marker.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        self._put_back(killed)
        self.recovered = True
        return killed

    # the clock --------------------------------------------------------------------------------

    def move(self, instant: dt.datetime) -> None:
        """The clock stands at `instant` for this connection; the gateway's and the services'
        connections see it once a call goes through them (share_clock)."""
        self.conn.execute("select set_config('mentorships.now', %s, false)", (instant.isoformat(),))
        self.now, self._shared = instant, False

    def share_clock(self) -> None:
        if not self._shared:
            # its own pipeline block: committed (synced) before a call through the gateway
            with self.conn.pipeline():
                self.conn.execute("update private.clock set frozen_at = %s", (self.now,))
            self._shared = True

    def block_bot(self, student: uuid.UUID, discord_id: str | None) -> None:
        """This student blocked the bot: Discord refuses their DMs from now on."""
        assert self.delivery is not None
        self.blocked_bot = student
        self.delivery.discord.blocked = discord_id

    def tick(self) -> None:
        """What pg_cron does each minute, at this instant: the job functions; then the messages
        due go out."""
        self.conn.execute("select private.run_due_jobs()")
        self.count("ticks")
        if self.calendars is not None:
            self.calendars.sync()
        self.deliver()

    def deliver(self) -> None:
        """The dispatcher's turn at this instant, when a message is due (a cheap look-up saves
        the round trips otherwise): the clock is shared with the gateway and the outbox drained
        through it as the service role. Then remembers when the next message falls due."""
        due = self._due()
        if due is not None and due <= self.now:
            assert self.delivery is not None
            self.share_clock()
            done = self.delivery.drain()
            self.count("drains")
            for what, n in (("sent", done.sent), ("failed", done.failed), ("voided", done.voided)):
                if n:
                    self.count(f"messages {what}", n)
            due = self._due()
        self.next_due = due if due is not None and due > self.now else None

    def _due(self) -> dt.datetime | None:
        due: dt.datetime | None = self.one(
            "select min(greatest(send_after, next_attempt_at)) from public.notifications"
            " where status = 'pending'"
        )
        return due

    def advance(self, until: dt.datetime) -> None:
        """Plays the instants before `until`: pg_cron's minute once an hour, and the dispatcher
        whenever a message falls due in between (a reminder goes out at its instant)."""
        assert self.next_tick is not None
        with self.conn.pipeline():
            while True:
                at = min(self.next_tick, self.next_due or self.next_tick)
                if at >= until:
                    return
                self.move(at)
                if at == self.next_tick:
                    self.next_tick += dt.timedelta(hours=1)
                    self.tick()
                else:
                    self.deliver()

    # SQL as the platform and as a person ------------------------------------------------------

    def one(self, statement: LiteralString, params: Any = ()) -> Any:
        row = self.conn.execute(statement, params).fetchone()
        return None if row is None else row[0]

    def as_person(self, who: uuid.UUID, statement: LiteralString, params: Any = ()) -> Any:
        """One statement as `who` with the JWT claims PostgREST would set: RLS and the rules
        decide. A refusal raises Refused."""
        claims = json.dumps({"sub": str(who), "role": "authenticated", "aud": "authenticated"})
        try:
            with self.conn.transaction():
                self.conn.execute(
                    "select set_config('role', 'authenticated', true),"
                    " set_config('request.jwt.claims', %s, true)",
                    (claims,),
                )
                return self.one(statement, params)
        except psycopg.Error as e:
            if e.sqlstate != "PGRST" or not e.diag.message_primary:
                raise
            body = json.loads(e.diag.message_primary)
            raise Refused(str(body["code"]), str(body["message"])) from None

    def as_platform(self, statement: LiteralString, params: Any = ()) -> None:
        """One statement as the service role: what the platform's back office does."""
        with self.conn.transaction():
            self.conn.execute("select set_config('role', 'service_role', true)")
            self.conn.execute(statement, params)

    def rpc(self, actor: uuid.UUID, fn: str, /, **args: object) -> dict[str, Any]:
        """public.<fn>(args) as `actor`, the row it returns as a dict."""
        call = ", ".join(f"{name} => %s::text" for name in args)
        values = [None if v is None else str(v) for v in args.values()]
        answer: dict[str, Any] = self.as_person(
            actor, f"select to_jsonb(r) from public.{fn}({call}) r", values
        )
        self.count(fn)
        return answer

    def slots(self, mentor: uuid.UUID, lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
        """mentor_availability between lo and hi (at most 35 days), as anyone may ask it."""
        hi = min(hi, lo + dt.timedelta(days=35))
        if hi <= lo:
            return []
        rows = self.conn.execute(
            "select starts_at from public.mentor_availability(%s::text, %s::text, %s::text)",
            (str(mentor), lo.isoformat(), hi.isoformat()),
        )
        return [r[0] for r in rows]

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # through the gateway and the services ----------------------------------------------------

    def create_order(
        self, student: uuid.UUID, email: str, product: uuid.UUID, provider: str, promo: str | None
    ) -> dict[str, Any]:
        """POST /rpc/create_order through the gateway as the student. PostgREST may still be
        loading its schema cache right after `db apply`: that is waited out.

        The API key is the service-role key (the bearer token, the student's, is what PostgREST
        runs the call as): the gateway does not rate-limit it, so a seed of any scale is not
        refused at the checkout class's limit for one address."""
        self.share_clock()
        url = f"{self.settings.rest_url}/rpc/create_order"
        deadline = time.monotonic() + (15 if "create_order" not in self.counts else 0)
        while True:
            r = self.http.post(
                url,
                json={"product_id": str(product), "provider": provider, "promo_code": promo},
                headers={
                    "apikey": jwt_.service_role_key(self.settings),
                    "Authorization": f"Bearer {jwt_.user_token(self.settings, student, email)}",
                },
            )
            loading = r.status_code in (404, 503) and r.json().get("code") in (
                "PGRST202",
                "PGRST002",
            )
            if not loading or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if r.status_code != 200:
            body = (
                r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            )
            if str(body.get("code", "")).startswith("PT"):
                raise Refused(body["code"], body.get("message", ""))
            raise StackError(
                f"seed: POST {url} as {email} answered HTTP {r.status_code} {r.text[:300]}"
            )
        self.count("create_order")
        order: dict[str, Any] = r.json()
        return order

    def _post(
        self, provider: str, event_type: str, body: bytes, headers: dict[str, str], expect: str
    ) -> dict[str, Any]:
        self.share_clock()
        url = f"{self.settings.services_url}/webhooks/{provider}"
        try:
            r = self.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise StackError(
                f"seed: POST {url} ({event_type}) failed: {e!r}; "
                "is the services app running? (`mentorships status`)"
            ) from e
        answer = r.json() if r.status_code == 200 else {}
        if answer.get("outcome") != expect:
            raise StackError(
                f"seed: POST {url} ({event_type}) answered HTTP {r.status_code} "
                f"{r.text[:300]}; expected 200 with outcome {expect!r}"
            )
        self.count(f"webhook {expect}")
        return dict(answer)

    def _stripe(
        self, event_type: str, obj: dict[str, Any], key: uuid.UUID, expect: str
    ) -> dict[str, Any]:
        secret = self.signing.stripe_secret
        assert secret is not None
        event = events.stripe_event(
            event_type,
            obj,
            event_id="evt_" + _hex(key, event_type, 24),
            created=int(self.now.timestamp()),
        )
        body = events.encode(event)
        return self._post(
            "stripe",
            event_type,
            body,
            {
                "Content-Type": "application/json",
                "Stripe-Signature": events.sign_stripe(body, secret),
            },
            expect,
        )

    def _paypal(
        self, event_type: str, resource: dict[str, Any], key: uuid.UUID, expect: str
    ) -> dict[str, Any]:
        pp = self.signing.paypal
        assert pp is not None and self.signing.paypal_webhook_id is not None
        kind, summary = _PAYPAL_SUMMARIES[event_type]
        event = events.paypal_event(
            event_type,
            resource,
            resource_type=kind,
            summary=summary.format(**resource["amount"]),
            event_id=f"WH-{_hex(key, event_type, 16).upper()}-{_hex(key, 'wh', 16).upper()}",
            create_time=events.paypal_transmission_time(self.now),
            api_base=self.signing.paypal_api_base,
        )
        body = events.encode(event)
        headers = pp.signer.headers(
            body, webhook_id=self.signing.paypal_webhook_id, cert_url=pp.cert_url
        )
        return self._post("paypal", event_type, body, headers, expect)

    def paid(
        self, order: dict[str, Any], amount: int | None = None, expect: str = "fulfilled"
    ) -> dict[str, Any]:
        """The provider's "payment completed" for the order, for its amount unless told."""
        key, currency = uuid.UUID(order["id"]), str(order["currency"])
        cents = int(order["amount_cents"]) if amount is None else amount
        if order["provider"] == "stripe":
            session = events.stripe_checkout_session(
                order_id=order["id"],
                amount_total=cents,
                currency=currency,
                session_id="cs_test_" + _hex(key, "checkout", 58),
                payment_intent="pi_" + _hex(key, "payment_intent", 24),
                expires_at=int(dt.datetime.fromisoformat(order["expires_at"]).timestamp()),
            )
            return self._stripe("checkout.session.completed", session, key, expect)
        capture = events.paypal_capture(
            order_id=order["id"],
            paypal_order_id=_hex(key, "paypal-order", 17).upper(),
            amount_cents=cents,
            currency=currency,
            capture_id=_hex(key, "capture", 17).upper(),
            api_base=self.signing.paypal_api_base,
        )
        return self._paypal("PAYMENT.CAPTURE.COMPLETED", capture, key, expect)

    def refunded(
        self, order: dict[str, Any], cents: int, total: int, expect: str
    ) -> dict[str, Any]:
        """A refund of `cents`, `total` refunded in all."""
        key, currency = uuid.UUID(order["id"]), str(order["currency"])
        event_key = uuid.uuid5(key, f"refund:{total}")
        if order["provider"] == "stripe":
            charge = events.stripe_charge(
                order_id=order["id"],
                amount=int(order["amount_cents"]),
                amount_refunded=total,
                currency=currency,
                payment_intent="pi_" + _hex(key, "payment_intent", 24),
                charge_id="ch_" + _hex(key, "charge", 24),
            )
            return self._stripe("charge.refunded", charge, event_key, expect)
        refund = events.paypal_refund(
            order_id=order["id"],
            capture_id=_hex(key, "capture", 17).upper(),
            amount_cents=cents,
            currency=currency,
            total_refunded_cents=total,
            refund_id=_hex(event_key, "refund", 17).upper(),
            api_base=self.signing.paypal_api_base,
        )
        return self._paypal("PAYMENT.CAPTURE.REFUNDED", refund, event_key, expect)

    def checkout_expired(self, order: dict[str, Any]) -> None:
        """Stripe's checkout.session.expired (a PayPal checkout has none: the hold job ends it)."""
        key = uuid.UUID(order["id"])
        session = events.stripe_checkout_session(
            order_id=order["id"],
            amount_total=int(order["amount_cents"]),
            currency=str(order["currency"]),
            session_id="cs_test_" + _hex(key, "checkout", 58),
            payment_status="unpaid",
            status="expired",
            expires_at=int(self.now.timestamp()),
        )
        self._stripe("checkout.session.expired", session, key, "released")
