"""A mailbox read through: the user's own messages found in it, and what was left out and why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ditto_desk.core.mailbox.imap import is_imap, parse_imap_url, read_imap
from ditto_desk.core.mailbox.own import OwnMessages, addresses, likely_own, sender
from ditto_desk.core.mailbox.reading import ReadStats, read_mailbox
from ditto_desk.core.progress import CancelToken, ProgressCallback, ignore_progress


@dataclass
class MailboxScan:
    own: OwnMessages
    read: ReadStats
    unread: Counter[str] = field(default_factory=Counter)  # messages not read at all, by why

    def likely_addresses(self) -> list[str]:
        """The addresses this mailbox's messages are most often from: the user's, if it is their Sent folder."""
        return likely_own(self.own.senders, self.read.messages)

    def summary(self) -> list[str]:
        """What the scan found, a line each, for the user."""
        own = self.own
        lines = [f"Read {self.read.messages:,} messages: {len(own.found):,} of your own to pick from."]
        lines += [f"  left out, {reason}: {n:,}" for reason, n in own.dropped.most_common()]
        lines += [f"  not read, {reason}: {n:,}" for reason, n in self.unread.most_common()]
        if own.others:
            lines.append(f"  from other people: {own.others:,}")
        if self.read.truncated:
            lines.append("  The mailbox ends inside a message: its last message may be cut short.")
        return lines


def scan_mailbox(
    source: str | Path,
    me: Iterable[str],
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    password: str = "",
) -> MailboxScan:
    """Read the mbox file, Maildir folder or IMAP folder (``imaps://user@host/Folder``, logged in with
    ``password``) at ``source`` and keep the messages sent from one of ``me`` that are worth learning from.
    Nothing is written anywhere, on this computer or the server; a cancel (Cancelled) leaves nothing behind."""
    mine = addresses(me)
    scan = MailboxScan(OwnMessages(), ReadStats())
    seen: set[str] = set()
    if is_imap(str(source)):
        messages = read_imap(
            parse_imap_url(str(source)), password, lambda head: sender(head) in mine, scan.read, progress, cancel
        )
    else:
        messages = read_mailbox(Path(source), scan.read, progress, cancel)
    for message in messages:
        if message.problem:
            scan.unread[message.problem] += 1
        else:
            scan.own.add(message.where, message.data, mine, seen)
    return scan
