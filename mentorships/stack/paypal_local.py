"""Local PayPal mode: the RSA key and self-signed certificate that stand in for PayPal's signing
certificate. `mentorships up` serves the certificate as PayPal's certificate host (see
Services.local_paypal_signer), so PayPal webhooks signed with the key verify."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from sync.paypal.message import paypal_message


@dataclass(frozen=True)
class PayPalSigner:
    """An RSA key with a self-signed certificate, standing in for PayPal's signing certificate."""

    private_key: rsa.RSAPrivateKey
    cert_pem: bytes

    @classmethod
    def generate(
        cls, common_name: str = "messageverificationcerts.sandbox.paypal.com"
    ) -> PayPalSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert.public_bytes(serialization.Encoding.PEM))

    @classmethod
    def from_pem(cls, key_pem: bytes, cert_pem: bytes) -> PayPalSigner:
        """A signer saved with `key_pem` and `cert_pem`. ValueError when either does not parse
        or the certificate is not the key's."""
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the PayPal signer's key is not an RSA key")
        cert = x509.load_pem_x509_certificate(cert_pem)
        if cert.public_key() != key.public_key():
            raise ValueError("the PayPal signer's certificate does not hold its key")
        return cls(key, cert_pem)

    @property
    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (keep it private: mode 0600)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def not_valid_after(self) -> dt.datetime:
        return x509.load_pem_x509_certificate(self.cert_pem).not_valid_after_utc

    def sign(self, message: bytes) -> str:
        signature = self.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def headers(
        self,
        body: bytes,
        *,
        webhook_id: str,
        cert_url: str,
        transmission_id: str | None = None,
        transmission_time: str | None = None,
        auth_algo: str = "SHA256withRSA",
    ) -> dict[str, str]:
        """The headers PayPal sends with a webhook (and Content-Type); the transmission time is
        now unless given, as PayPal writes it (UTC, whole seconds)."""
        tid = transmission_id or str(uuid.uuid4())
        ttime = transmission_time or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": tid,
            "PAYPAL-TRANSMISSION-TIME": ttime,
            "PAYPAL-TRANSMISSION-SIG": self.sign(paypal_message(tid, ttime, webhook_id, body)),
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": auth_algo,
        }


@dataclass(frozen=True)
class PayPalCert:
    """A PayPal signer and where the services download its certificate: a URL under
    /v1/notifications/certs/ on the services' PayPal API host (sync.paypal.webhook)."""

    signer: PayPalSigner
    cert_url: str
