"""A self-signed certificate for the farm, made at start with ``cryptography``.

One certificate serves every host: its subjectAltName lists the farm's explicit hosts (up to
:data:`MAX_NAMED_HOSTS`) and a wildcard for every top-level name seen (``*.example``), which is
enough for clients that verify against ``Farm.cert_file``. The crawler under test does not
verify certificates at all, so synthetic webs of 100,000 hosts are covered by ``*.example``
alone (per-SNI certificates would cost a key file each: ``ssl`` loads chains only from files).
The server records the SNI name of every connection (see :func:`server_context`).
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MAX_NAMED_HOSTS = 2000
COMMON_NAME = "optout-audit webfarm"


def san_names(names: Iterable[str]) -> list[str]:
    """Return the DNS names for the certificate: ``names`` (capped) plus a ``*.<tld>`` per TLD seen."""
    named: list[str] = []
    tlds: set[str] = set()
    for name in names:
        if name.startswith("[") or name in named:
            continue
        if len(named) < MAX_NAMED_HOSTS:
            named.append(name)
        if "." in name:
            tlds.add(name.rsplit(".", 1)[1])
    return named + [f"*.{tld}" for tld in sorted(tlds) if f"*.{tld}" not in named]


def make_certificate(names: Iterable[str], addresses: Iterable[str] = ()) -> tuple[bytes, bytes]:
    """Return ``(cert_pem, key_pem)``: a self-signed EC P-256 certificate for ``names`` (see :func:`san_names`)."""
    key = ec.generate_private_key(ec.SECP256R1())  # milliseconds, unlike RSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in san_names(names)]
    alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        # CA:TRUE so that the certificate can be its own trust anchor in a verifying client.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_certificate(directory: Path, names: Iterable[str], addresses: Iterable[str] = ()) -> tuple[Path, Path]:
    """Make a certificate and write ``farm-cert.pem`` / ``farm-key.pem`` in ``directory``."""
    cert_pem, key_pem = make_certificate(names, addresses)
    cert_file, key_file = directory / "farm-cert.pem", directory / "farm-key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.touch(mode=0o600)
    key_file.write_bytes(key_pem)
    return cert_file, key_file


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """Return a server TLS context; the SNI name of each connection lands on ``ssl_object.farm_sni``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    ctx.set_alpn_protocols(["http/1.1"])  # a client offering h2 must fall back to HTTP/1.1
    ctx.sni_callback = _remember_sni
    return ctx


def _remember_sni(ssl_object: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
    # SSLObject has no __slots__, and asyncio hands us the very object the transport exposes.
    ssl_object.farm_sni = server_name  # type: ignore[attr-defined]


def client_context(cert_file: Path | None = None) -> ssl.SSLContext:
    """Return a client context: verifying against the farm certificate, or not verifying at all."""
    if cert_file is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=str(cert_file))
