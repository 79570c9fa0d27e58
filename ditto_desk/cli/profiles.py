"""``ditto-desk profiles``: list and manage profiles, their versions, and carry a style elsewhere (an archive
for another ditto-desk, a merged model, a LoRA GGUF file for llama.cpp)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ditto_desk.cli.arguments import add_model_args, model_settings
from ditto_desk.cli.exit_codes import EXIT_OK, EXIT_USAGE
from ditto_desk.cli.mail import add_arguments as add_mail_arguments
from ditto_desk.cli.mail import add_mail
from ditto_desk.cli.terminal import job_progress
from ditto_desk.core.errors import InputError
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.store import ProfileStore


def add_parser(sub: Any) -> None:
    profiles = sub.add_parser(
        "profiles",
        help="list and manage profiles, and carry them to another computer",
        description="export-archive NAME FILE: the profile as one file; import-archive FILE [NAME]: a new profile "
        "from such a file (its style must have been learned on --model); export-merged NAME DIR: --model with the "
        "profile's style merged in, as an ordinary safetensors model folder; versions NAME: the styles it learned, "
        "newest first; history NAME: the same, with what each learned from and how it ended; undo NAME: back to "
        "the one before; use NAME VERSION; pin / unpin NAME VERSION: keep it whatever the number of newer ones; "
        "export-gguf NAME FILE: the style as a LoRA GGUF file for llama.cpp's --lora on the same base model "
        "(needs llama.cpp's convert_lora_to_gguf.py: --llama-cpp DIR or DITTO_DESK_LLAMA_CPP); add-mail NAME SOURCE "
        "--me ADDRESS: your own best emails picked from a mailbox (an mbox file, a Maildir folder, or an IMAP folder "
        "as imaps://you@host[:port]/Folder, read-only; the password is asked for), to confirm",
    )
    actions = ["list", "show", "create", "rename", "delete", "export-archive", "import-archive", "export-merged"]
    actions += ["export-gguf", "add-mail"]
    actions += ["versions", "history", "undo", "use", "pin", "unpin"]
    profiles.add_argument("action", nargs="?", default="list", choices=actions)
    profiles.add_argument("names", nargs="*")
    profiles.add_argument("--export", type=Path, metavar="DIR", help="with 'show': copy the adapter to DIR")
    profiles.add_argument("--llama-cpp", type=Path, metavar="DIR", help="with 'export-gguf': a llama.cpp checkout")
    add_mail_arguments(profiles)
    add_model_args(profiles)


def run(args: argparse.Namespace, store: ProfileStore) -> int:
    from ditto_desk.core.export.adapter import export_adapter
    from ditto_desk.core.export.archive import export_archive, import_archive
    from ditto_desk.core.export.merged import export_merged
    from ditto_desk.core.models.settings import model_name
    from ditto_desk.core.profiles.history import history

    names = args.names
    if args.action == "list":
        for name in store.list():
            print(name)
    elif args.action == "create" and len(names) == 1:
        store.create(names[0])
    elif args.action == "rename" and len(names) == 2:
        store.rename(names[0], names[1])
    elif args.action == "delete" and len(names) == 1:
        store.delete(names[0])
    elif args.action == "show" and len(names) == 1:
        profile = store.load(names[0])
        print(f"{profile.name}: {len(profile.demonstrations)} demonstration(s), trained: {profile.has_adapter}")
        for demo in profile.demonstrations:
            print(f"  - {demo.prompt}  [{demo.source}]")
        if args.export:
            print(f"Adapter exported to {export_adapter(profile, args.export)}")
    elif args.action == "export-archive" and len(names) == 2:
        print(f"Profile {names[0]!r} exported to {export_archive(store.load(names[0]), Path(names[1]))}")
    elif args.action == "import-archive" and len(names) in (1, 2):
        # The archive's style must have been learned on the model this command would load (--model).
        chosen = names[1] if len(names) == 2 else None
        profile = import_archive(store, Path(names[0]), chosen, expected_base=model_name(args.model))
        trained = "with its learned style" if profile.has_adapter else "not trained yet"
        print(f"Imported the profile {profile.name!r}: {len(profile.demonstrations)} text(s), {trained}.")
    elif args.action == "export-merged" and len(names) == 2:
        with job_progress() as (progress, cancel):
            dest = export_merged(store.load(names[0]), model_settings(args), Path(names[1]), progress, cancel)
        print(f"The model with the style of {names[0]!r} merged in is saved in {dest}")
    elif args.action == "export-gguf" and len(names) == 2:
        _export_gguf(store.load(names[0]), Path(names[1]), ModelSettings(args.model), args.llama_cpp)
    elif args.action == "add-mail" and len(names) == 2:
        return add_mail(args, store, names[0], names[1])
    elif args.action == "versions" and len(names) == 1:
        for version in history(store.load(names[0])):
            print(version.version + (f"  ({', '.join(version.marks)})" if version.marks else ""))
    elif args.action == "history" and len(names) == 1:
        for version in history(store.load(names[0])):
            print(version.describe())
    elif args.action == "undo" and len(names) == 1:
        print(f"{names[0]!r} is back to the style learned as {store.load(names[0]).undo()}.")
    elif args.action == "use" and len(names) == 2:
        store.load(names[0]).use_version(names[1])
        print(f"{names[0]!r} now writes with the style learned as {names[1]}.")
    elif args.action in ("pin", "unpin") and len(names) == 2:
        store.load(names[0]).pin(names[1], pinned=args.action == "pin")
    else:
        print(f"profiles {args.action}: wrong number of names", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _export_gguf(profile: Profile, file: Path, settings: ModelSettings, llama_cpp: Path | None) -> None:
    """The profile's current style as a LoRA GGUF (llama.cpp's own converter does the writing)."""
    from ditto_desk.core.export.gguf import export_gguf_adapter
    from ditto_desk.core.models.settings import model_name
    from ditto_desk.core.models.sources import resolve_model_source
    from ditto_desk.core.profiles.adapter_folder import check_base_model

    if profile.active_adapter_dir is None:
        raise InputError(f"The profile {profile.name!r} has not learned a style yet: nothing to export.")
    check_base_model(profile.active_adapter_dir, model_name(settings.model))
    base_dir, _ = resolve_model_source(settings.model)  # the base model's folder: the converter reads its config
    out = export_gguf_adapter(profile.active_adapter_dir, Path(base_dir), file, llama_cpp)
    print(f"The style of {profile.name!r} is saved as {out}: llama.cpp loads it with --lora on the same base model.")
