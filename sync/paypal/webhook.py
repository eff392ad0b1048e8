"""POST /webhooks/paypal: verify PayPal's signature offline, as PayPal's SDKs do, then one RPC
call.

PayPal signs "<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body as an
unsigned decimal>" with SHA256withRSA; the certificate holding the public key is downloaded from
PAYPAL-CERT-URL, which must be under /v1/notifications/certs/ on the configured PayPal API host
(https, or http when that is how the API base is configured, as for a local fake). PayPal names
its older host of the same environment there (api.sandbox.paypal.com for api-m.sandbox...), which
is accepted too."""

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

from mentorships.settings import Settings
from sync import orders
from sync.rest import Rest
from sync.signing import paypal_message

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
AUTH_ALGO = "SHA256withRSA"
CERT_CACHE_SIZE = 16


class Rejected(Exception):
    """The webhook does not verify; str(e) says why."""


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
        raise Rejected(f"PAYPAL-CERT-URL must be https, not {parts.scheme or 'missing'}")
    base_host = base.netloc.lower()
    allowed = {base_host, CERT_HOST_TWINS.get(base_host, base_host)}
    if parts.netloc.lower() not in allowed or parts.username or parts.password:
        raise Rejected(
            f"PAYPAL-CERT-URL host {parts.netloc!r} is not the PayPal API host {base.netloc!r}"
        )
    if not parts.path.startswith(CERT_PATH_PREFIX) or ".." in parts.path or parts.query:
        raise Rejected(f"PAYPAL-CERT-URL is not under {CERT_PATH_PREFIX}")


class PayPalVerifier:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
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
                raise Rejected(f"could not download the certificate: {e!r}") from e
            if response.status_code != 200:
                raise Rejected(f"could not download the certificate: HTTP {response.status_code}")
            try:
                cert = x509.load_pem_x509_certificate(response.content)
            except ValueError as e:
                raise Rejected("PAYPAL-CERT-URL did not return a PEM certificate") from e
            self._certs[url] = cert
            while len(self._certs) > CERT_CACHE_SIZE:
                self._certs.popitem(last=False)
            log.info("paypal certificate cached", extra={"url": url})
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Rejected("the signing certificate is not valid now")
        return cert

    async def verify(self, headers: Mapping[str, str], raw: bytes) -> None:
        def header(name: str) -> str:
            value = headers.get(name)
            if not value:
                raise Rejected(f"no {name.upper()} header")
            return value

        transmission_id = header("paypal-transmission-id")
        transmission_time = header("paypal-transmission-time")
        signature_b64 = header("paypal-transmission-sig")
        cert_url = header("paypal-cert-url")
        algo = header("paypal-auth-algo")
        if algo != AUTH_ALGO:
            raise Rejected(f"PAYPAL-AUTH-ALGO {algo!r} is not {AUTH_ALGO}")
        try:
            sent = dt.datetime.fromisoformat(transmission_time)
        except ValueError as e:
            raise Rejected("PAYPAL-TRANSMISSION-TIME is not an ISO 8601 time") from e
        if sent.tzinfo is None:
            raise Rejected("PAYPAL-TRANSMISSION-TIME has no time zone")
        if abs(time.time() - sent.timestamp()) > TOLERANCE_SECONDS:
            raise Rejected(
                f"PAYPAL-TRANSMISSION-TIME {transmission_time} is more than "
                f"{TOLERANCE_SECONDS} s from now"
            )
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError) as e:
            raise Rejected("PAYPAL-TRANSMISSION-SIG is not base64") from e
        cert = await self.certificate(cert_url)
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Rejected("the signing certificate does not hold an RSA key")
        message = paypal_message(transmission_id, transmission_time, self.webhook_id, raw)
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as e:
            raise Rejected("the signature does not match") from e


async def handle(
    verifier: PayPalVerifier, rest: Rest, raw: bytes, headers: Mapping[str, str]
) -> Response:
    try:
        await verifier.verify(headers, raw)
        event = orders.parse_event(raw)
    except Rejected as e:
        return orders.rejected("paypal", f"signature verification failed: {e}")
    except ValueError as e:
        return orders.rejected("paypal", f"the body is not a JSON event: {e}")
    event_id, event_type = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        return orders.rejected("paypal", "the event has no id or event_type")
    return await orders.record_event(rest, "paypal", event_id, event_type, event)
