"""``ditto-desk teach``: keep a corrected draft in a profile and update its learned style from the edits
waiting to be taught (core/training/teach.py). The draft and the edited text are read from files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ditto_desk.cli.arguments import (
    add_model_args,
    add_reply_to_arg,
    add_training_args,
    model_settings,
    parse_overrides,
    read_reply_to,
)
from ditto_desk.cli.exit_codes import EXIT_CANCELLED, EXIT_OK
from ditto_desk.cli.terminal import job_progress
from ditto_desk.core.errors import InputError, Refused, UsageError
from ditto_desk.core.importing.files import read_plain_text
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled


def add_parser(sub: Any) -> None:
    teach = sub.add_parser("teach", help="teach a profile's style with drafts you corrected")
    teach.add_argument("--profile", default="default")
    teach.add_argument("--request", help="what the draft was asked to write (as given to `write`)")
    add_reply_to_arg(teach, "the draft answered it (as given to `write --reply-to`); --request is then optional")
    teach.add_argument("--draft", type=Path, help="a file holding the draft as the model wrote it")
    teach.add_argument("--edited", type=Path, help="a file holding your corrected version of it")
    teach.add_argument("--later", action="store_true", help="only keep the edit; teach it with later ones")
    add_model_args(teach)
    add_training_args(teach)


def run(args: argparse.Namespace, store: ProfileStore) -> int:
    from ditto_desk.core.jobs import teach_profile
    from ditto_desk.core.models.loading import load_tokenizer
    from ditto_desk.core.texts.replies import compose_request
    from ditto_desk.core.training.config import preset

    config = preset(args.preset).with_overrides(**parse_overrides(args.set))  # checked before anything is stored
    asked = args.request is not None or args.reply_to is not None
    given = [asked, args.draft is not None, args.edited is not None]
    if any(given) and not all(given):
        raise UsageError(
            "Give --draft and --edited with --request or --reply-to (or none of them, to teach the waiting edits)."
        )
    if all(given) and args.reply_to is None and not args.request.strip():
        raise UsageError("Say in --request what the draft was asked to write.")
    message = read_reply_to(args.reply_to)
    profile = store.load(args.profile)
    if all(given):
        draft, edited = _read(args.draft), _read(args.edited)
        prompts = [d.prompt for d in profile.demonstrations]
        if message is None:
            request = compose_request(None, args.request, prompts)
        else:  # worded as `write --reply-to` worded it, so the edit is kept with the request its draft answered
            tokenizer = load_tokenizer(model_settings(args))
            request = compose_request(
                tokenizer, args.request or "", prompts, message.text, message.sender, message.subject
            )
        profile.add_edit(request, draft, edited)
        print(f"Kept the edit in {profile.name!r}; {len(profile.waiting_edits())} edit(s) waiting to be taught.")
        if args.later:
            return EXIT_OK
    try:
        with job_progress() as (progress, cancel):
            summary = teach_profile(store, profile.name, model_settings(args), config, progress, cancel)
    except Cancelled:
        waiting = len(profile.waiting_edits())
        print(
            f"\nCancelled. Nothing was learned; the style is as it was. {waiting} edit(s) wait to be taught: "
            f"`ditto-desk teach --profile {profile.name}` teaches them.",
            file=sys.stderr,
        )
        return EXIT_CANCELLED
    phases = ", ".join(f"{k} {v:.0f}s" for k, v in summary.phase_seconds.items())
    print(f"Taught {summary.profile!r} in {summary.seconds:.0f}s ({phases}) on {summary.model}.")
    print(f"New version saved in {summary.adapter_dir}; `ditto-desk profiles undo {summary.profile}` takes it back.")
    return EXIT_OK


def _read(path: Path) -> str:
    """A text file in any of the encodings the importers read; a clear error for one that is not text."""
    try:
        return read_plain_text(path)
    except Refused as exc:
        raise InputError(f"{path}: {exc}") from exc
