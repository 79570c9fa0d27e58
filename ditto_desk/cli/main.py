"""``ditto-desk COMMAND``: parse the command line, run the command, and turn how it ended into an exit code."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from ditto_desk.cli import evaluate, models, profiles, teach, train, write
from ditto_desk.cli.exit_codes import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, exit_code_for, exit_codes_text
from ditto_desk.core.errors import DittoDeskError, ModelError, SettingError
from ditto_desk.core.progress import Cancelled

# Each command's module adds its parser and runs it: run(args, store) -> exit code.
COMMANDS = {"train": train, "write": write, "eval": evaluate, "teach": teach, "models": models, "profiles": profiles}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ditto-desk",
        description="Teach a local language model to write like you. With no command, ditto-desk opens its window "
        "(--dark for a dark palette).",
        epilog=exit_codes_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--profiles-dir", type=Path, help="where profiles live (default: your data folder)")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation: load the bundled model, write a few tokens, check the profiles folder",
    )
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        return _self_test(args.profiles_dir)
    if args.command is None:
        parser.error("name a command (or run ditto-desk with no arguments to open the window)")
    from ditto_desk.core.profiles.store import ProfileStore

    try:
        return COMMANDS[args.command].run(args, ProfileStore(args.profiles_dir))
    except Cancelled:
        print("\nCancelled. Nothing was learned and no texts were added: the profile is as it was.", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_CANCELLED
    except DittoDeskError as problem:
        print(f"{_kind(problem)}: {problem}", file=sys.stderr)
        return exit_code_for(problem)
    except Exception as bug:  # noqa: BLE001 - not a problem worded for the user: a bug, said as one
        traceback.print_exc()
        print(
            f"\nditto-desk failed unexpectedly ({type(bug).__name__}: {bug}). This is a bug: please report it with "
            "the traceback above.",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _kind(problem: DittoDeskError) -> str:
    if isinstance(problem, ModelError):
        return "Model problem"
    return "Setting problem" if isinstance(problem, SettingError) else "Error"


def _self_test(profiles_dir: Path | None) -> int:
    from ditto_desk.core.places import default_profiles_root
    from ditto_desk.core.self_test import run_self_test

    result = run_self_test(profiles_dir or default_profiles_root(), emit=lambda line: print(line, flush=True))
    if not result.ok:
        print(f"Self-test failed: {result.failures[0]}", file=sys.stderr)
        return EXIT_FAILED
    print("Self-test passed.")
    return EXIT_OK
