"""A mailbox into the user's own best emails: mbox and Maildir read, only the user's messages kept, the machine-
written and forwarded ones left out, a few picked with reasons, and bad mailboxes answered clearly. The messages
are real mailing-list emails (resources/mail-corpus) written into the mailboxes as the stdlib writes them."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE
from ditto_desk.cli.main import main
from ditto_desk.core.errors import InputError
from ditto_desk.core.importing.files import import_paths
from ditto_desk.core.mailbox.picking import pick_representative
from ditto_desk.core.mailbox.reading import ReadStats, read_mailbox
from ditto_desk.core.mailbox.scan import scan_mailbox
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled, CancelToken

CORPUS = Path(__file__).resolve().parents[1] / "resources" / "mail-corpus"
TIM = "tim.one@comcast.net"
MACHINE_WRITTEN = [
    b"From: MAILER-DAEMON@mail.example.org\nSubject: Undelivered Mail\nContent-Type: multipart/report; "
    b"report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nYour message could not be delivered."
    b"\n--b--\n",
    b"From: Tim Peters <tim.one@comcast.net>\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nI am away "
    b"until Monday, and will answer your message when I am back at my desk, with thanks for your patience.\n",
    b"From: tim.one@comcast.net\nSubject: Fwd: the release\n\nSee below.\n\n---------- Forwarded message ---------\n"
    b"From: Someone Else <else@example.org>\n\nThe release moves to Friday, as the build farm is down again.\n",
    b"From: tim.one@comcast.net\nSubject: Re: test sets\n\n+1, thanks!\n",
]
# A body line beginning "From " is quoted as ">From " in an mbox, and read back as it was written.
FROM_IN_BODY = (
    b"From: Tim Peters <tim.one@comcast.net>\nSubject: timing\n\nI ran the suite twice over the weekend and the new "
    b"sort wins on every input we have, by a margin that surprised me a little.\n\nFrom what I can tell the old "
    b"one loses on nearly sorted data, which is exactly what real programs hand it most of the time.\n"
)


def real_emails() -> list[bytes]:
    return [path.read_bytes() for path in sorted(CORPUS.glob("*/*.eml"))]


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for message in messages:
        box.add(message)
    box.close()
    return path


def test_an_mbox_yields_only_the_users_own_emails_and_says_what_it_left_out(tmp_path: Path) -> None:
    emails = real_emails()
    mbox = write_mbox(tmp_path / "Sent", [*emails, *MACHINE_WRITTEN, FROM_IN_BODY, emails[-1]])
    scan = scan_mailbox(mbox, [f"Tim Peters <{TIM.upper()}>"])
    tims = [e for e in emails if b"From: tim.one@comcast.net" in e]
    assert scan.read.messages == len(emails) + len(MACHINE_WRITTEN) + 2 and not scan.read.truncated
    assert len(scan.own.found) == len(tims) + 1  # the duplicate once, the "From " line kept
    assert any("\nFrom what I can tell" in d.text for d in scan.own.found)
    dropped = scan.own.dropped
    assert dropped["an automatic reply"] == 1 and dropped["a forwarded message"] == 1
    assert dropped["fewer than 20 words of your own"] == 1 and dropped["the same text as another message"] == 1
    assert scan.own.others == len(emails) - len(tims) + 1  # the bounce is the mail server's
    assert all(d.source.startswith("Sent, message ") for d in scan.own.found)
    replies = [d for d in scan.own.found if d.context]
    assert len(replies) >= len(tims) - 1 and all(d.context not in d.text for d in replies)

    picks = pick_representative(scan.own.found, 4)
    assert len(picks) == 4 and len({p.demonstration.id for p in picks}) == 4
    assert all("standing for" in p.reason and "words" in p.reason for p in picks)
    stood_for = sum(int(p.reason.split("standing for ")[1].split()[0]) for p in picks)
    assert stood_for == len(scan.own.found)  # every email is represented by exactly one pick


def test_a_maildir_is_read_without_changing_it_and_an_unreadable_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    for message in real_emails()[:12]:
        box.add(message)
    box.close()
    (folder / "cur" / "1700000000.broken:2,S").symlink_to(tmp_path / "gone")
    os.mkfifo(folder / "cur" / "1700000001.pipe:2,S")  # opening it would wait for a writer forever
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (folder / "new").iterdir())
    scan = scan_mailbox(folder, ["cwg-exmh@DeepEddy.Com"])
    assert [d.text for d in scan.own.found] and scan.read.messages == 14
    assert scan.unread == {"not a regular file, so it was not read": 2}
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (folder / "new").iterdir()) == before
    assert sorted(p.name for p in (folder / "cur").iterdir()) == ["1700000000.broken:2,S", "1700000001.pipe:2,S"]


def test_a_truncated_mbox_keeps_what_it_holds_and_says_the_last_may_be_cut(tmp_path: Path) -> None:
    mbox = write_mbox(tmp_path / "Sent.mbox", real_emails())
    data = mbox.read_bytes()
    mbox.write_bytes(data[: len(data) - 300])
    scan = scan_mailbox(mbox, [TIM])
    assert scan.read.truncated and "may be cut short" in "\n".join(scan.summary())
    assert len(scan.own.found) >= 8


def test_a_message_too_large_is_skipped_without_holding_it(tmp_path: Path) -> None:
    big = b"From: tim.one@comcast.net\nSubject: logs\n\n" + b"x" * 76 + (b"\n" + b"y" * 76) * 140_000
    mbox = write_mbox(tmp_path / "Sent", [big, *real_emails()[-3:]])
    stats = ReadStats()
    messages = list(read_mailbox(mbox, stats))
    assert stats.messages == 4 and "larger than 10 MB" in messages[0].problem and not messages[0].data


def test_what_is_not_a_mailbox_is_refused_clearly_and_a_cancel_stops_the_read(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Just a note, not a mailbox.", encoding="utf-8")
    with pytest.raises(InputError, match="not an mbox file"):
        scan_mailbox(note, [TIM])
    with pytest.raises(InputError, match="neither an mbox file nor a Maildir"):
        scan_mailbox(tmp_path, [TIM])
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        scan_mailbox(write_mbox(tmp_path / "Sent", real_emails()), [TIM], cancel=cancel)


def test_an_mbox_saved_as_eml_or_without_a_suffix_is_refused_as_a_mailbox_not_read_as_one_email(
    tmp_path: Path,
) -> None:
    for name in ("Sent", "exported.eml"):
        path = write_mbox(tmp_path / name, real_emails()[:3])
        result = import_paths([path])
        assert not result.demonstrations
        assert "mailbox holding several emails" in result.refused[0].reason


def test_profiles_add_mail_confirms_the_address_then_adds_the_picks(tmp_path: Path, capsys) -> None:
    mbox = write_mbox(tmp_path / "Sent", [e for e in real_emails() if b"tim.one@comcast.net" in e])
    assert main(["profiles", "add-mail", "me", str(mbox)]) == EXIT_USAGE
    assert f"--me {TIM}" in capsys.readouterr().err and not ProfileStore().exists("me")
    args = ["profiles", "add-mail", "me", str(mbox), "--me", TIM, "--pick", "3"]
    assert main(args) == EXIT_USAGE  # not a terminal and no --yes: nothing is added
    assert "Nothing was added" in capsys.readouterr().out and not ProfileStore().exists("me")
    assert main([*args, "--yes"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Picked 3 to learn from" in out and "Added 3 text(s)" in out
    demos = ProfileStore().load("me").demonstrations
    assert len(demos) == 3 and all(d.context for d in demos)
    assert main(["profiles", "add-mail", "me", str(mbox), "--me", "someone@else.org", "--yes"]) == EXIT_BAD_INPUT
    assert "None of the messages" in capsys.readouterr().err
    assert main(["profiles", "add-mail", "me", str(tmp_path / "missing"), "--me", TIM]) == EXIT_BAD_INPUT
    assert main(["profiles", "add-mail", "me", str(mbox), "--me", "not-an-address"]) == EXIT_USAGE
    assert len(ProfileStore().load("me").demonstrations) == 3


def test_emails_in_other_scripts_and_encodings_count_their_words_and_read_right(tmp_path: Path) -> None:
    """Japanese and Chinese put no spaces between words: a 60-character email is not "too short"."""
    japanese = (
        "お世話になっております。来週の会議の件ですが、火曜日の午後三時からでいかがでしょうか。"
        + "資料は前日までにお送りします。"
    )
    chinese = (
        "大家好，我们下周二下午三点在三楼会议室开会，讨论新版本的发布计划，请大家准时参加，并提前准备好各自的进度报告。"
    )
    french = (
        "Bonjour à tous, la réunion de jeudi est déplacée à vendredi matin, même salle, même heure ; "
        "merci de prévenir vos équipes."
    )
    messages = [
        (japanese, "iso-2022-jp"),
        (chinese, "gb2312"),
        (french, "windows-1252"),
    ]
    raw = [
        f"From: {TIM}\nSubject: note\nContent-Type: text/plain; charset={charset}\n\n".encode() + text.encode(charset)
        for text, charset in messages
    ]
    scan = scan_mailbox(write_mbox(tmp_path / "Sent", raw), [TIM])
    assert [d.text for d in scan.own.found] == [text for text, _ in messages]
    for text, charset in messages:
        eml = tmp_path / f"{charset}.eml"
        eml.write_bytes(f"From: {TIM}\nContent-Type: text/plain; charset={charset}\n\n".encode() + text.encode(charset))
        assert import_paths([eml]).demonstrations[0].text == text


def test_an_mbox_with_no_line_breaks_is_read_in_bounded_pieces(tmp_path: Path) -> None:
    mbox = tmp_path / "Sent"
    mbox.write_bytes(b"From x Mon Dec  7 12:00:00 2026\n" + b"y" * 30_000_000)
    stats = ReadStats()
    (message,) = list(read_mailbox(mbox, stats))
    assert "larger than 10 MB" in message.problem and stats.truncated
