"""``ditto-desk write``: a draft in a profile's learned style, streamed to the terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ditto_desk.cli.arguments import (
    add_model_args,
    add_reply_to_arg,
    model_settings,
    positive,
    read_reply_to,
    seed,
    style_strength,
    temperature,
)
from ditto_desk.cli.exit_codes import EXIT_OK
from ditto_desk.core.app_settings import MAX_STYLE_STRENGTH, MIN_STYLE_STRENGTH
from ditto_desk.core.errors import UsageError
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.store import ProfileStore

DEFAULT_PROFILE = "default"


def add_parser(sub: Any) -> None:
    write = sub.add_parser("write", help="write a text in a profile's style")
    write.add_argument(
        "request",
        nargs="?",
        default="",
        help="what to write, e.g. 'An email to the team about Friday'; with --reply-to, what the reply says "
        "(optional), e.g. 'yes, but not before May'",
    )
    add_reply_to_arg(write, "the draft replies to it")
    write.add_argument("--profile", help=f"whose style (default: {DEFAULT_PROFILE!r})")
    write.add_argument(
        "--base", action="store_true", help="use the base model, without the learned style (needs no profile)"
    )
    write.add_argument("--compare", action="store_true", help="also write the base model's answer")
    write.add_argument(
        "--max-new-tokens", type=positive, help="the longest draft, in tokens (default: from the profile's texts)"
    )
    write.add_argument("--temperature", type=temperature, default=0.7)
    write.add_argument(
        "--style-strength",
        type=style_strength,
        default=1.0,
        help=f"how much of the learned style, from {MIN_STYLE_STRENGTH:g} (the base model) through 1 (the style as "
        f"learned, the default) to {MAX_STYLE_STRENGTH:g}; lower trades voice for coherence",
    )
    write.add_argument("--seed", type=seed)
    add_model_args(write)


def run(args: argparse.Namespace, store: ProfileStore) -> int:
    from ditto_desk.core.importing.files import IncomingMessage
    from ditto_desk.core.models.loading import load_model
    from ditto_desk.core.texts.prompts import check_request
    from ditto_desk.core.texts.replies import compose_request
    from ditto_desk.core.writing.writer import WriteOptions, Writer

    check_request(args.request)  # before the model loads
    if not args.request.strip() and args.reply_to is None:
        raise UsageError("Say what to write, or give the email you are answering with --reply-to FILE.")
    message = read_reply_to(args.reply_to) or IncomingMessage("")
    profile = _profile(args, store)
    writer = Writer(load_model(model_settings(args)))
    if profile is not None and not args.base:
        if not profile.has_adapter:
            print(f"Profile {profile.name!r} is not trained yet: writing with the base model.", file=sys.stderr)
        else:
            writer.use_adapter(profile.active_adapter_dir)
    demonstrations = profile.demonstrations if profile is not None else []
    bounds = writer.length_for([d.text for d in demonstrations], args.max_new_tokens)
    options = WriteOptions.within(bounds, args.temperature, seed=args.seed, style_strength=args.style_strength)
    prompts = [d.prompt for d in demonstrations]
    request = compose_request(
        writer.loaded.tokenizer, args.request, prompts, message.text, message.sender, message.subject
    )
    runs = [("learned style", writer.has_adapter and not args.base)]
    if args.compare:
        runs.append(("base model", False))
    for title, use_adapter in runs:
        if len(runs) > 1:
            print(f"--- {title} ---")
        for piece in writer.stream(request, options, use_adapter=use_adapter):
            print(piece, end="", flush=True)
        print()
    return EXIT_OK


def _profile(args: argparse.Namespace, store: ProfileStore) -> Profile | None:
    """The profile whose style the draft takes, and whose texts set its length; the base model alone needs none."""
    if args.base and args.profile is None and not store.exists(DEFAULT_PROFILE):
        return None
    return store.load(args.profile or DEFAULT_PROFILE)
