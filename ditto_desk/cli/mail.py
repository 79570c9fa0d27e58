"""``ditto-desk profiles add-mail NAME SOURCE --me ADDRESS``: the user's own best emails picked from a mailbox (an
mbox file, a Maildir folder or an IMAP folder, ``imaps://user@host[:port]/Folder``) and added to a profile's texts,
after the user confirms them."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ditto_desk.cli.exit_codes import EXIT_OK, EXIT_USAGE
from ditto_desk.cli.terminal import job_progress
from ditto_desk.core.errors import InputError, UsageError
from ditto_desk.core.profiles.store import ProfileStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--me",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="with 'add-mail': an address you send from (again for each one); left out, the mailbox's likely "
        "addresses are shown to confirm",
    )
    parser.add_argument(
        "--pick", type=int, default=None, metavar="N", help="with 'add-mail': how many emails to pick (default 8)"
    )
    parser.add_argument("--yes", action="store_true", help="with 'add-mail': add the picks without asking")


def add_mail(args: argparse.Namespace, store: ProfileStore, name: str, source: str) -> int:
    from ditto_desk.core.mailbox.imap import is_imap, parse_imap_url
    from ditto_desk.core.mailbox.picking import DEFAULT_PICKS, pick_representative
    from ditto_desk.core.mailbox.scan import scan_mailbox
    from ditto_desk.core.profiles.store import validate_profile_name

    name = validate_profile_name(name)  # before a long read, not after it
    count = DEFAULT_PICKS if args.pick is None else args.pick
    if not 1 <= count <= 20:
        raise UsageError("--pick must be from 1 to 20: DITTO learns from a few texts (fewer than ten is best).")
    password = ""
    if is_imap(source):
        password = _password(str(parse_imap_url(source)))
    elif not Path(source).exists():
        raise InputError(f"{source}: not found; give an mbox file, a Maildir folder or imaps://you@host/Folder.")
    with job_progress() as (progress, cancel):
        scan = scan_mailbox(source, args.me, progress, cancel, password=password)
    if not args.me:
        likely = scan.likely_addresses()
        print(f"Read {scan.read.messages:,} messages. Which addresses are yours?", file=sys.stderr)
        for address in likely:
            print(f"  {address}  ({scan.own.senders[address]:,} messages)", file=sys.stderr)
        example = likely[0] if likely else "you@example.com"
        print(f"Run again with --me {example} (once for each of your addresses).", file=sys.stderr)
        return EXIT_USAGE
    for line in scan.summary():
        print(line)
    if not scan.own.found:
        raise InputError(
            f"None of the messages in {source} is an email of yours to learn from (sent from "
            f"{', '.join(args.me)}): check the addresses, or give your Sent folder."
        )
    picks = pick_representative(scan.own.found, count)
    print(f"Picked {len(picks)} to learn from:")
    for number, pick in enumerate(picks, 1):
        demo = pick.demonstration
        print(f"  {number}. {demo.prompt}  [{demo.source}]\n     {pick.reason}")
    if not args.yes and not _confirmed(f"Add these {len(picks)} to {name!r}?"):
        print("Nothing was added.")
        return EXIT_USAGE if not sys.stdin.isatty() else EXIT_OK
    profile = store.load(name) if store.exists(name) else store.create(name)
    added = profile.add_demonstrations([p.demonstration for p in picks])
    print(f"Added {len(added)} text(s) to {profile.name!r} ({len(picks) - len(added)} it already held).")
    return EXIT_OK


def _password(folder: str) -> str:
    """Asked for at the terminal (never an argument, which a process list shows); read from the first line of
    standard input when that is not a terminal (a password manager piping it in)."""
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {folder}: ")
    return sys.stdin.readline().rstrip("\r\n")


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"{question} Give --yes to add them without asking.", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
