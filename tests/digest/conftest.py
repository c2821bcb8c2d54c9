"""Digest test fixtures: a real store ingested from the fixture mailbox, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import shutil
import socket
import ssl
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from config.mail import DigestSettings, SmtpSettings
from pipeline.ingest import ingest
from pipeline.sources.local import LocalSource
from pipeline.store import Store
from tests.conftest import FIXTURE_MAILBOX

POLICE = "foi-team@force.police.uk"
PARTNER = "analyst@partner.example.org"
FROM = "CRU digest <cru-digest@example.police.uk>"
BASE_URL = "https://cru.example.police.uk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Handler:
    """An aiosmtpd handler that records deliveries and can refuse on cue.

    ``rcpt_replies`` / ``data_replies``: replies to give instead of accepting,
    consumed one per attempt ("451 ..." once, then acceptance).
    ``refuse``: recipients always refused with this reply.
    """

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    attempts: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if address in self.refuse:
            return self.refuse[address]
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="session")
def seed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture mailbox ingested once; tests get copies."""
    path = tmp_path_factory.mktemp("digest-seed") / "cru.db"
    with Store(path) as store:
        report = ingest(store, LocalSource([FIXTURE_MAILBOX]))
    assert report.quarantined == 0
    return path


@pytest.fixture
def db_path(seed_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cru.db"
    shutil.copy(seed_db, target)
    return target


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as s:
        yield s


@pytest.fixture
def digest_settings() -> DigestSettings:
    return DigestSettings(recipients=(POLICE, PARTNER), caveat_domains=("police.uk",), base_url=BASE_URL,
                          start_week="2024-W46")


@pytest.fixture
def smtp_server() -> Iterator[tuple[Handler, int]]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(smtp_server: tuple[Handler, int]) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=smtp_server[1], security="none", from_addr=FROM,
                        reply_to="cru-team@example.police.uk", timeout=5, retry_attempts=3,
                        retry_initial_seconds=0.01, retry_max_seconds=0.02)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: openssl if present, else the cryptography package."""
    d = tmp_path_factory.mktemp("tls")
    cert_file, key_file = d / "cert.pem", d / "key.pem"
    if shutil.which("openssl"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key_file),
                        "-out", str(cert_file), "-days", "30", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
        return cert_file, key_file
    x509 = pytest.importorskip("cryptography.x509", reason="needs openssl or the cryptography package")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def server_context(tls_cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
    return ctx


def authenticator(user: str, password: str):
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture(autouse=True)
def _quiet_aiosmtpd() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="aiosmtpd")
        yield
