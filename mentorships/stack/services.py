"""The Python services (sync/), started with the environment the stack renders for them, and
local PayPal mode."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sys
from urllib.parse import urlsplit

import httpx

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack.common import (
    Process,
    _pid_alive,
    _stop_recorded,
    _write_file,
    paths,
    start_process,
)
from mentorships.stack.google_local import LocalGoogle
from mentorships.stack.paypal_local import PayPalCert, PayPalSigner
from sync.call_page import ASSETS as CALL_ASSETS
from sync.call_page import SDK_FILE as CALL_SDK_FILE
from sync.discord.oauth import CALLBACK_PATH as DISCORD_CALLBACK_PATH
from sync.gcal import CALLBACK_PATH as GOOGLE_CALLBACK_PATH
from sync.placeholders import (
    PLACEHOLDER_FIELDS,
    agora_is_placeholder,
    new_placeholder,
    placeholder_providers,
)
from sync.settings import ProviderSettings, ServiceSettings

LOCAL_PAYPAL_CERT_PATH = "/v1/notifications/certs/CERT-local"
# The local signer's certificate is valid a year (PayPalSigner.generate); it is
# replaced when it has less than this left.
LOCAL_PAYPAL_RENEW_BEFORE = dt.timedelta(days=30)


def call_sdk_missing(services_url: str) -> bool:
    """Whether the services at this address say the call page's SDK (Agora's Web SDK) is not
    installed: HEAD of it answers 503. False when they do not answer at all."""
    try:
        r = httpx.head(f"{services_url}{CALL_ASSETS}/{CALL_SDK_FILE}", timeout=2)
    except httpx.HTTPError:
        return False
    return r.status_code == 503


def _is_paypal_host(api_base: str) -> bool:
    host = (urlsplit(api_base).hostname or "").lower()
    return host == "paypal.com" or host.endswith(".paypal.com")


class Services:
    """The ASGI app of sync/ (webhooks, checkout), run as `python -m sync` with the environment
        this stack renders for it (service_settings): the services' own variables
        (sync.settings.ServiceSettings), from which they derive nothing of the stack's. The stack
        gives them its gateway's URL and the anon and service-role keys it mints, its provider
        settings, and where to listen.

        Local stacks only: a provider secret that is not set comes from a file of local values
        generated once (provider-secrets.json in the stack's state folder, mode 0600), as the JWT
        secret does, so the services start and signed webhooks verify. Those placeholder API keys
        (sync.placeholders.new_placeholder) do not reach Stripe or PayPal; real test keys
        (MENTORSHIPS_STRIPE_SECRET_KEY, ...) do. Placeholder Agora keys mint video tokens Agora's
        servers refuse; the project's real App ID and App Certificate (MENTORSHIPS_AGORA_*) work.
        Placeholder Discord client keys cannot reach Discord: /oauth/discord/start answers 503 on them
        (the state secret placeholder is a real random secret). Discord's redirect URI defaults to
        these services' /oauth/discord/callback through the gateway (/services/...). Google's client keys likewise (/oauth/google/start
    answers 503 on placeholders; the state secret and token keys placeholders are real random ones).

        PayPal on placeholder keys runs in local mode (local_paypal): the services verify PayPal
        webhooks with a certificate they download from their PayPal API host, so the stack plays that
        host. A local signer (RSA key and self-signed certificate, generated once next to
        provider-secrets.json) has its certificate served by the gateway on
        http://<host>:<paypal_local_port>, which becomes the services' PayPal API base; events signed
        with local_paypal_signer() verify."""

    NEEDLE = "-m sync"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def address(self) -> str:
        return self.s.services_url

    def local_secrets(self) -> dict[str, str]:
        """The stack's local provider values, created on first use."""
        path = self.p.provider_secrets
        try:
            values: dict[str, str] = json.loads(path.read_text())
        except (OSError, ValueError):
            values = {}
        missing = [field for field in PLACEHOLDER_FIELDS if not values.get(field)]
        if missing:
            for field in missing:
                values[field] = new_placeholder(field)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(values, f, indent=2)
            tmp.replace(path)
        return values

    def placeholders(self) -> list[str]:
        """The settings this stack fills with local values (not set in the environment)."""
        return [field for field in PLACEHOLDER_FIELDS if getattr(self.s, field) is None]

    def _with_local_secrets(self) -> Settings:
        local = self.local_secrets()
        updates = {field: local[field] for field in self.placeholders()}
        return Settings.model_validate({**self.s.model_dump(), **updates})

    def effective_settings(self) -> Settings:
        """This stack's settings as its services get them: missing provider secrets filled with
        the local values and, in local PayPal mode, the local certificate host as the PayPal API
        base. Scripts that sign webhooks for the local services use these."""
        settings = self._with_local_secrets()
        if self.local_paypal():
            settings = Settings.model_validate(
                {**settings.model_dump(), "paypal_api_base": self.local_paypal_base}
            )
        google = LocalGoogle(self.s).overrides()  # local Google mode: its address and client
        if google:
            settings = Settings.model_validate({**settings.model_dump(), **google})
        return settings

    def service_settings(self) -> ServiceSettings:
        """What the services run with: the stack's gateway as the Supabase URL, the anon and
        service-role keys the stack mints from its JWT secret, the effective provider settings,
        and where to listen."""
        effective = self.effective_settings()
        return ServiceSettings.model_validate(
            {
                **{field: getattr(effective, field) for field in ProviderSettings.model_fields},
                "supabase_url": self.s.gateway_url,
                "supabase_anon_key": jwt.anon_key(self.s),
                "supabase_service_role_key": jwt.service_role_key(self.s),
                "services_host": self.s.host,
                "services_port": self.s.services_port,
                # Discord sends the person back to these services through the gateway (unless
                # set otherwise).
                "discord_redirect_uri": effective.discord_redirect_uri
                or f"{self.s.public_services_url}{DISCORD_CALLBACK_PATH}",
                # Google too.
                "google_redirect_uri": effective.google_redirect_uri
                or f"{self.s.public_services_url}{GOOGLE_CALLBACK_PATH}",
            }
        )

    def local_providers(self) -> list[str]:
        """Enabled providers whose API keys are local placeholders (their APIs unreachable):
        what the services themselves recognise as such (sync.placeholders.placeholder_providers).
        Asking creates no file: an unset secret is judged by a placeholder of its form."""
        unset = {field: new_placeholder(field) for field in self.placeholders()}
        return list(
            placeholder_providers(Settings.model_validate({**self.s.model_dump(), **unset}))
        )

    def local_agora(self) -> bool:
        """Whether the services mint video tokens with local placeholder Agora keys (Agora's
        servers refuse those tokens). Asking creates no file, as local_providers."""
        unset = {field: new_placeholder(field) for field in self.placeholders()}
        return agora_is_placeholder(Settings.model_validate({**self.s.model_dump(), **unset}))

    def local_paypal(self) -> bool:
        """Whether the stack plays PayPal's certificate host: PayPal is enabled on placeholder
        API keys (never when real keys are set) and its API base is PayPal's own, which those
        keys cannot use anyway. An API base of your own (a fake, as bench/webhooks.py runs) is
        kept as it is."""
        return "paypal" in self.local_providers() and _is_paypal_host(self.s.paypal_api_base)

    @property
    def local_paypal_base(self) -> str:
        """The local PayPal certificate host (the services' PayPal API base in local mode)."""
        return f"http://{self.s.host}:{self.s.paypal_local_port}"

    def local_paypal_signer(self) -> PayPalCert | None:
        """In local PayPal mode: the stack's PayPal signer (created on first use, renewed when
        its certificate nears its end) and the URL its certificate is served at, to sign PayPal
        webhooks for these services with (`signer.headers(body, webhook_id=effective_settings()
        .paypal_webhook_id, cert_url=cert_url)`). None otherwise."""
        if not self.local_paypal():
            return None
        return PayPalCert(
            self._local_paypal_signer(), self.local_paypal_base + LOCAL_PAYPAL_CERT_PATH
        )

    def _local_paypal_signer(self) -> PayPalSigner:
        key_path, cert_path = self.p.paypal_key, self.p.paypal_cert
        try:
            signer = PayPalSigner.from_pem(key_path.read_bytes(), cert_path.read_bytes())
        except (OSError, ValueError):
            pass  # not there yet, or damaged: a new one
        else:
            if signer.not_valid_after - dt.datetime.now(dt.UTC) > LOCAL_PAYPAL_RENEW_BEFORE:
                return signer
        signer = PayPalSigner.generate(
            common_name=f"mentorships {self.s.stack} stack: local PayPal signer"
        )
        # The key first: a certificate on disk always has its key there already.
        _write_file(key_path, signer.key_pem, 0o600)
        _write_file(cert_path, signer.cert_pem, 0o644)  # served by nginx's unprivileged worker
        return signer

    def environment(self) -> dict[str, str]:
        """The services' environment: every MENTORSHIPS_* variable they read, nothing else of
        the stack's."""
        return self.service_settings().to_env()

    def config(self) -> str:
        text = "".join(f"{k}={v}\n" for k, v in sorted(self.environment().items()))
        local = self.local_paypal_signer()
        if local is not None:
            # The services cache a certificate by its URL: a new local signer restarts them.
            digest = hashlib.sha256(local.signer.cert_pem).hexdigest()
            text += f"# local PayPal signer certificate sha256:{digest}\n"
        return text

    def pid(self) -> int | None:
        return _pid_alive(self.p.services_pid, self.NEEDLE)

    def healthy(self) -> bool:
        try:
            r = httpx.get(f"{self.address}/health", timeout=2)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def start(self) -> bool:
        return start_process(
            Process(
                command=[sys.executable, "-m", "sync"],
                environment=self.environment(),
                config=self.config(),
                env_file=self.p.services_env,
                pid_file=self.p.services_pid,
                log=self.p.services_log,
                port=(self.s.host, self.s.services_port, "MENTORSHIPS_SERVICES_PORT"),
                ready=self.healthy,
                what=f"the services did not become healthy on {self.address}",
            ),
            self.pid(),
            self.stop,
        )

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.p.services_pid)


# --- the whole stack ----------------------------------------------------------------------------
