"""``ditto-desk train``: learn a profile's style from its texts and the files given (DITTO)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ditto_desk.cli.arguments import SAMPLES_DIR, add_model_args, add_training_args, model_settings, parse_overrides
from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_OK
from ditto_desk.cli.terminal import job_progress
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled


def add_parser(sub: Any) -> None:
    train = sub.add_parser("train", help="learn a style from demonstrations (DITTO)")
    train.add_argument("--profile", default="default", help="profile to train (created if missing)")
    train.add_argument("demos", nargs="*", type=Path, help="files or folders to add as demonstrations first")
    train.add_argument("--samples", action="store_true", help="add the bundled sample demonstrations")
    train.add_argument("--replace", action="store_true", help="replace the profile's demonstrations instead of adding")
    add_training_args(train)
    add_model_args(train)


def run(args: argparse.Namespace, store: ProfileStore) -> int:
    from ditto_desk.core.importing.files import import_paths
    from ditto_desk.core.jobs import train_profile
    from ditto_desk.core.texts.demonstration import split_new
    from ditto_desk.core.training.checkpoint import kept_learning
    from ditto_desk.core.training.config import preset

    # Everything is checked before anything is stored: the texts given here join the profile only with
    # the run that succeeds (train_profile adds them when it commits the adapter).
    config = preset(args.preset).with_overrides(**parse_overrides(args.set))
    sources = list(args.demos)
    if args.samples:
        sources += sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix in {".eml", ".txt", ".md"})
    result = import_paths(sources) if sources else None
    for refusal in result.refused if result else []:
        print(f"refused {refusal.source}: {refusal.reason}", file=sys.stderr)
    texts = result.demonstrations if result else []
    replace = args.replace and bool(sources)  # --replace replaces with the texts given, if any
    existing = store.load(args.profile) if store.exists(args.profile) else None
    own = [] if replace or existing is None else existing.demonstrations
    new, repeated = split_new(own, texts)
    for demo in repeated:
        print(f"skipped {demo.source}: this text is already in the profile", file=sys.stderr)
    if not own and not new:
        print("Nothing to learn from: pass files or folders, or --samples.", file=sys.stderr)
        return EXIT_BAD_INPUT

    profile = existing or store.create(args.profile)  # train_profile holds and commits into a real profile
    with job_progress() as (progress, cancel):
        try:
            summary = train_profile(
                store, profile.name, model_settings(args), config, progress, cancel, new_texts=new, replace=replace
            )
        except BaseException as stopped:
            kept = kept_learning(profile.path)
            if kept is None and existing is None and not store.load(profile.name, verify=False).has_adapter:
                store.delete(profile.name)  # a run that did not succeed leaves no new, empty profile behind
            if kept is None or not isinstance(stopped, (Cancelled, KeyboardInterrupt)):
                raise
            print(
                "\nCancelled. Nothing was learned and no texts were added: the profile is as it was. The learning so "
                f"far ({kept}) is kept: the same command continues from there.",
                file=sys.stderr,
            )
            return EXIT_CANCELLED
    if existing is None:
        print(f"Created the profile {profile.name!r}.")
    if summary.resumed:
        print(f"Continued the stopped learning ({summary.resumed} already done).")
    phases = ", ".join(f"{k} {v:.0f}s" for k, v in summary.phase_seconds.items())
    print(f"Learned the style of {summary.profile!r} in {summary.seconds:.0f}s ({phases}) on {summary.model}.")
    print(f"Adapter saved in {summary.adapter_dir}")
    if replace:
        print(f"The texts of {summary.profile!r} were replaced by the {summary.texts_added} given.")
    elif sources:
        total = len(store.load(summary.profile, verify=False).demonstrations)
        print(f"{summary.texts_added} new text(s) added to {summary.profile!r}; it now holds {total}.")
    return EXIT_OK
