"""A real Dovecot IMAP server on 127.0.0.1 for tests and the benchmark (never a mock).

Follows ../shared/recipes/test-servers.md: mail_uid dovecot (Dovecot refuses
mail access as root), a world-readable temp dir from ``tempfile.mkdtemp``
(pytest's tmp_path is 0700 and Dovecot's auth process cannot read it), free
ports, and reaping after a kill before a restart. Plain IMAP, STARTTLS (same
port) and implicit TLS on a second port, with a self-signed certificate whose
CA file is ``cert``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

PASSWORD = "secret"
MAX_USERS = 200


def dovecot_binary() -> str | None:
    """The dovecot executable (root's PATH has /usr/sbin, a user's may not)."""
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def available() -> str | None:
    """None when Dovecot can run here, else the reason it cannot."""
    if dovecot_binary() is None:
        return "dovecot is not installed (apt-get install dovecot-imapd; .ci/run installs it)"
    try:
        import pwd

        pwd.getpwnam("dovecot")
    except KeyError:
        return "no 'dovecot' system user (install the dovecot-imapd package)"
    if os.geteuid() != 0:
        return "these Dovecot tests run as root (mail_uid = dovecot needs it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONF = """\
base_dir = {base}/run
state_dir = {base}/state
instance_name = crutest{port}
protocols = imap
listen = 127.0.0.1
log_path = {base}/dovecot.log
ssl = yes
ssl_cert = <{base}/tls/cert.pem
ssl_key = <{base}/tls/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login{mechs}
mail_location = maildir:{base}/mail/%u/Maildir
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
first_valid_gid = 1
imap_max_line_length = 256k
{oauth2}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = home={base}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
protocol imap {{
  mail_plugins =
}}
"""


OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/oauth2.conf.ext
}}
"""

#: Dovecot asks this URL, with "Authorization: Bearer TOKEN", who the token belongs to.
OAUTH2_CONF = """\
introspection_mode = auth
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


class Dovecot:
    """One Dovecot instance; users are created on demand with the password ``PASSWORD``.

    With ``oauth2_url``, XOAUTH2 logins are checked by Dovecot's oauth2 passdb
    against that (loopback) introspection endpoint; password logins still work.
    """

    def __init__(self, oauth2_url: str | None = None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="cru-dovecot-"))
        os.chmod(self.base, 0o755)
        for d in ("run", "state", "mail", "tls"):
            (self.base / d).mkdir()
        shutil.chown(self.base / "mail", "dovecot", "dovecot")
        self.port = free_port()
        self.tls_port = free_port()
        self._users = 0
        # Users exist from the start: no reliance on Dovecot noticing a changed passwd-file.
        (self.base / "users").write_text("".join(f"u{i}:{{PLAIN}}{PASSWORD}\n" for i in range(1, MAX_USERS + 1)))
        self._make_cert()
        self.conf = self.base / "dovecot.conf"
        oauth2 = ""
        if oauth2_url:
            (self.base / "oauth2.conf.ext").write_text(OAUTH2_CONF.format(url=oauth2_url))
            oauth2 = OAUTH2_PASSDB.format(base=self.base)
        self.conf.write_text(CONF.format(base=self.base, port=self.port, tls_port=self.tls_port, oauth2=oauth2,
                                         mechs=" xoauth2 oauthbearer" if oauth2_url else ""))
        self.proc: subprocess.Popen | None = None

    @property
    def cert(self) -> Path:
        return self.base / "tls" / "cert.pem"

    def _make_cert(self) -> None:
        tls = self.base / "tls"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tls / "key.pem"),
             "-out", str(tls / "cert.pem"), "-days", "3650", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True,
        )
        os.chmod(tls / "key.pem", 0o644)

    def start(self) -> Dovecot:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        # Its own process group, so that kill() takes the imap/auth children down with the master.
        self.proc = subprocess.Popen([dovecot_binary() or "dovecot", "-F", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start within 10s")

    def kill(self) -> None:
        """SIGKILL Dovecot (master and the imap processes serving open connections), then reap the master."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._wait_port_closed()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _wait_port_closed(self) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                time.sleep(0.05)
            except OSError:
                return

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def log(self) -> str:
        p = self.base / "dovecot.log"
        return p.read_text(errors="replace") if p.exists() else ""

    # ---- users and mail --------------------------------------------------------------
    def new_user(self) -> str:
        """A fresh mailbox user, never used before on this server."""
        self._users += 1
        assert self._users <= MAX_USERS, "raise MAX_USERS"
        return f"u{self._users}"

    def client(self, user: str) -> IMAPClient:
        c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        c.login(user, PASSWORD)
        return c

    def deliver(self, user: str, messages: list[bytes], folder: str = "INBOX", chunk: int = 200) -> None:
        """APPEND messages over IMAP (MULTIAPPEND in chunks), creating the folder when needed."""
        with self.client(user) as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            for i in range(0, len(messages), chunk):
                c.multiappend(folder, messages[i : i + chunk])

    def mailbox_dir(self, user: str) -> Path:
        return self.base / "mail" / user / "Maildir"
