"""POST /webhooks/paypal: verify PayPal's signature offline, as PayPal's SDKs do (SHA256withRSA
over sync.paypal.message, with the certificate from PAYPAL-CERT-URL on the configured PayPal API
host: check_cert_url), then one RPC call."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi.responses import Response

from sync import orders
from sync.errors import printable, quoted
from sync.paypal.message import paypal_message
from sync.rest import Rest
from sync.settings import ServiceSettings

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
AUTH_ALGO = "SHA256withRSA"
CERT_CACHE_SIZE = 16


class Rejected(Exception):
    """The webhook does not verify: `header` is the one at fault, str(e) says how."""

    def __init__(self, header: str, reason: str) -> None:
        self.header = header
        self.reason = reason
        super().__init__(f"{header}: {reason}")


SIGNATURE_HINT = (
    "Send the event exactly as PayPal signed it, with its PAYPAL-* headers; the services verify"
    " it for the webhook MENTORSHIPS_PAYPAL_WEBHOOK_ID with the certificate from the PayPal API"
    " host."
)
BODY_HINT = "Send the event PayPal signed: a JSON object with an id and an event_type."


CERT_PATH_PREFIX = "/v1/notifications/certs/"
# PayPal's REST hosts (api-m.*) deliver webhooks whose PAYPAL-CERT-URL names the older host of
# the same environment (api.sandbox.paypal.com, api.paypal.com): that one is PayPal's too.
CERT_HOST_TWINS = {
    "api-m.sandbox.paypal.com": "api.sandbox.paypal.com",
    "api-m.paypal.com": "api.paypal.com",
}


def check_cert_url(url: str, api_base: str) -> None:
    """Only certificates under /v1/notifications/certs/ on the configured PayPal API host (or
    its twin, see CERT_HOST_TWINS) are fetched: https, or http when the API base itself is http
    (a local fake)."""
    parts, base = urlsplit(url), urlsplit(api_base)
    if parts.scheme != "https" and not (parts.scheme == "http" == base.scheme):
        raise Rejected(
            "PAYPAL-CERT-URL", f"must be https, not {printable(parts.scheme, 20) or 'missing'}"
        )
    base_host = base.netloc.lower()
    allowed = {base_host, CERT_HOST_TWINS.get(base_host, base_host)}
    if parts.netloc.lower() not in allowed or parts.username or parts.password:
        raise Rejected(
            "PAYPAL-CERT-URL",
            f"host {quoted(parts.netloc)} is not the PayPal API host {quoted(base.netloc)}",
        )
    if not parts.path.startswith(CERT_PATH_PREFIX) or ".." in parts.path or parts.query:
        raise Rejected("PAYPAL-CERT-URL", f"not under {CERT_PATH_PREFIX}")


class PayPalVerifier:
    def __init__(self, settings: ServiceSettings, http: httpx.AsyncClient) -> None:
        assert settings.paypal_webhook_id is not None  # checked at start
        self.webhook_id = settings.paypal_webhook_id
        self.api_base = settings.paypal_api_base
        self.http = http
        self._certs: OrderedDict[str, x509.Certificate] = OrderedDict()

    async def certificate(self, url: str) -> x509.Certificate:
        check_cert_url(url, self.api_base)
        cert = self._certs.get(url)
        if cert is None:
            try:
                response = await self.http.get(url, timeout=10, follow_redirects=False)
            except httpx.HTTPError as e:
                raise Rejected(
                    "PAYPAL-CERT-URL", f"could not download the certificate: {type(e).__name__}"
                ) from e
            if response.status_code != 200:
                raise Rejected(
                    "PAYPAL-CERT-URL",
                    f"could not download the certificate: HTTP {response.status_code}",
                )
            try:
                cert = x509.load_pem_x509_certificate(response.content)
            except ValueError as e:
                raise Rejected("PAYPAL-CERT-URL", "did not return a PEM certificate") from e
            self._certs[url] = cert
            while len(self._certs) > CERT_CACHE_SIZE:
                self._certs.popitem(last=False)
            log.info("paypal certificate cached", extra={"url": url})
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Rejected("PAYPAL-CERT-URL", "the signing certificate is not valid now")
        return cert

    async def verify(self, headers: Mapping[str, str], raw: bytes) -> None:
        def header(name: str) -> str:
            value = headers.get(name)
            if not value:
                raise Rejected(name.upper(), "no such header")
            return value

        transmission_id = header("paypal-transmission-id")
        transmission_time = header("paypal-transmission-time")
        signature_b64 = header("paypal-transmission-sig")
        cert_url = header("paypal-cert-url")
        algo = header("paypal-auth-algo")
        if algo != AUTH_ALGO:
            raise Rejected("PAYPAL-AUTH-ALGO", f"{quoted(algo)} is not {AUTH_ALGO}")
        try:
            sent = dt.datetime.fromisoformat(transmission_time)
        except ValueError as e:
            raise Rejected("PAYPAL-TRANSMISSION-TIME", "not an ISO 8601 time") from e
        if sent.tzinfo is None:
            raise Rejected("PAYPAL-TRANSMISSION-TIME", "no time zone")
        if abs(time.time() - sent.timestamp()) > TOLERANCE_SECONDS:
            raise Rejected(
                "PAYPAL-TRANSMISSION-TIME",
                f"{quoted(transmission_time)} is more than {TOLERANCE_SECONDS} s from now",
            )
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError) as e:
            raise Rejected("PAYPAL-TRANSMISSION-SIG", "not base64") from e
        cert = await self.certificate(cert_url)
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Rejected("PAYPAL-CERT-URL", "the signing certificate does not hold an RSA key")
        message = paypal_message(transmission_id, transmission_time, self.webhook_id, raw)
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as e:
            raise Rejected("PAYPAL-TRANSMISSION-SIG", "no signature matches the payload") from e


async def handle(
    verifier: PayPalVerifier, rest: Rest, raw: bytes, headers: Mapping[str, str]
) -> Response:
    try:
        await verifier.verify(headers, raw)
        event = orders.parse_event(raw)
    except Rejected as e:
        return orders.rejected("paypal", e.header, e.reason, SIGNATURE_HINT)
    except ValueError as e:
        return orders.rejected("paypal", "body", f"not a JSON event: {e}", BODY_HINT)
    event_id, event_type = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        return orders.rejected("paypal", "body", "the event has no id or event_type", BODY_HINT)
    return await orders.record_event(rest, "paypal", event_id, event_type, event)
