"""A real IMAP server for the tests: Debian's Dovecot, started on loopback with a self-signed certificate for
localhost, one user (maren / secret) with a Maildir, stopped afterwards. .ci/run installs dovecot-imapd; where it
is not installed the tests that need it are skipped, saying so."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "maren", "secret"


@dataclass(frozen=True)
class ImapServer:
    port: int
    cert: Path
    log: Path

    def url(self, folder: str, user: str = USER) -> str:
        return f"imaps://{user}@localhost:{self.port}/{folder}"

    def connect(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.cert))
        imap = imaplib.IMAP4_SSL("localhost", self.port, ssl_context=context, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def fill(self, folder: str, messages: list[bytes]) -> None:
        """Put ``messages`` in ``folder`` (created): the test's own writing, before the app reads."""
        imap = self.connect()
        imap.create(folder)
        for message in messages:
            imap.append(folder, None, None, message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        imap.logout()

    def state(self, folder: str) -> list[tuple[bytes, bytes]]:
        """Every message's UID and flags in ``folder``, read without changing them."""
        imap = self.connect()
        imap.select(folder, readonly=True)
        _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        imap.logout()
        return sorted((d.split(b" ")[0], d.split(b"FLAGS ")[1]) for d in data if isinstance(d, bytes))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def dovecot() -> Iterator[ImapServer]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run installs it)")
    root = Path(tempfile.mkdtemp(prefix="ditto-imap-"))
    root.chmod(0o755)  # the mail processes run as Dovecot's own user when the tests run as root
    try:
        cert, key = root / "cert.pem", root / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2"]
            + ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True,
            capture_output=True,
        )
        me = pwd.getpwuid(os.getuid()).pw_name
        internal, login = ("dovecot", "dovenull") if os.getuid() == 0 else (me, me)
        home = root / "home"
        (home / USER / "Maildir").mkdir(parents=True)
        if os.getuid() == 0:
            shutil.chown(home, internal, internal)
            for folder in (home / USER, home / USER / "Maildir"):
                shutil.chown(folder, internal, internal)
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        port, log = _free_port(), root / "dovecot.log"
        config = root / "dovecot.conf"
        config.write_text(
            f"""base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
log_path = {log}
auth_mechanisms = plain
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid={internal} gid={internal} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""
        )
        server = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 15
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    errors = server.stderr.read().decode() if server.stderr else ""
                    raise RuntimeError(f"Dovecot did not start: {errors} {log.read_text() if log.exists() else ''}")
                time.sleep(0.1)
            yield ImapServer(port, cert, log)
        finally:
            server.terminate()
            server.wait(10)
    finally:
        shutil.rmtree(root, ignore_errors=True)
