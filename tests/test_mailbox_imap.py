"""A folder on a real IMAP server (Dovecot on loopback, tests/imap_server.py): only the user's emails are picked,
a wrong password or an unreachable server is said within seconds, a cancelled read adds nothing, and nothing on
the server changes (no flag set, nothing moved or deleted)."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imap_server import PASSWORD, ImapServer, dovecot

from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE
from ditto_desk.cli.main import main
from ditto_desk.core.errors import InputError, UsageError
from ditto_desk.core.mailbox.imap import parse_imap_url
from ditto_desk.core.mailbox.scan import scan_mailbox
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled, CancelToken

CORPUS = Path(__file__).resolve().parents[1] / "resources" / "mail-corpus"
TIM = "tim.one@comcast.net"


@pytest.fixture(scope="module")
def server() -> Iterator[ImapServer]:
    with dovecot() as running:
        running.fill("Sent", [p.read_bytes() for p in sorted(CORPUS.glob("*/*.eml"))])
        yield running


@pytest.fixture(autouse=True)
def _trust_the_test_certificate(server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))


def test_only_the_users_emails_are_picked_and_the_server_is_left_as_it_was(server: ImapServer) -> None:
    before = server.state("Sent")
    scan = scan_mailbox(server.url("Sent"), [TIM], password=PASSWORD)
    assert scan.read.messages == len(before) == len(list(CORPUS.glob("*/*.eml")))
    assert len(scan.own.found) == 9 and scan.own.others == len(before) - 9
    assert all(d.source.startswith("Sent, message ") and d.context for d in scan.own.found)
    assert server.state("Sent") == before  # no \\Seen flag set, nothing moved or deleted
    assert all(b"\\Seen" not in flags for _, flags in before)


def test_a_wrong_password_an_unknown_folder_and_an_unreachable_server_are_said_within_seconds(
    server: ImapServer,
) -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match="refused the user name 'maren' or its password"):
        scan_mailbox(server.url("Sent"), [TIM], password="wrong")
    with pytest.raises(InputError, match="There is no folder 'Outbox'.*INBOX"):
        scan_mailbox(server.url("Outbox"), [TIM], password=PASSWORD)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(InputError, match=f"Could not reach the mail server localhost:{port}"):
        scan_mailbox(f"imaps://maren@localhost:{port}/Sent", [TIM], password=PASSWORD)
    assert time.monotonic() - start < 15
    with pytest.raises(UsageError, match="only over TLS"):
        parse_imap_url(f"imap://maren@localhost:{server.port}/Sent")


def test_a_certificate_this_computer_does_not_trust_is_refused(
    server: ImapServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    with pytest.raises(InputError, match="certificate this computer trusts"):
        scan_mailbox(server.url("Sent"), [TIM], password=PASSWORD)


def test_a_cancelled_read_adds_nothing(server: ImapServer) -> None:
    cancel = CancelToken()
    cancel.cancel()
    before = server.state("Sent")
    with pytest.raises(Cancelled):
        scan_mailbox(server.url("Sent"), [TIM], cancel=cancel, password=PASSWORD)
    main(["profiles", "create", "me"])
    assert ProfileStore().load("me").demonstrations == [] and server.state("Sent") == before


def test_profiles_add_mail_reads_the_password_from_stdin_never_the_command_line(
    server: ImapServer, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["profiles", "add-mail", "me", server.url("Sent"), "--me", TIM, "--pick", "4", "--yes"]
    assert main(args) == EXIT_OK
    assert "Added 4 text(s)" in capsys.readouterr().out
    assert len(ProfileStore().load("me").demonstrations) == 4
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    assert main(args) == EXIT_BAD_INPUT
    assert "or its password" in capsys.readouterr().err
    assert main(["profiles", "add-mail", "me", "imap://maren@localhost/Sent", "--me", TIM]) == EXIT_USAGE
    assert len(ProfileStore().load("me").demonstrations) == 4
