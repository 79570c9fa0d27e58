"""``ditto-desk``: the window, or a command of the command line.

With nothing to do but open the window (no arguments, or only the window's own: ``--dark``, Qt's options) the
window opens; a command (``train``, ``write``, …), ``--self-test`` or ``--help`` goes to the command line, which
never imports the window.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

_COMMAND_LINE_FLAGS = {"--self-test", "-h", "--help"}


def wants_window(args: Sequence[str]) -> bool:
    """Whether ``args`` ask for the window: no command, no command-line flag, and no word first (a mistyped
    command goes to the command line, which says so)."""
    from ditto_desk.cli.main import COMMANDS

    if any(a in COMMANDS or a in _COMMAND_LINE_FLAGS for a in args):
        return False
    return not args or args[0].startswith("-")


def main(argv: Sequence[str] | None = None) -> int:
    # Everything is imported in here, so a Ctrl+C while the libraries load (torch takes a second or more) ends
    # with a word, not a traceback.
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        from ditto_desk.cli.exit_codes import EXIT_CANCELLED

        print("\nStopped.", file=sys.stderr)
        return EXIT_CANCELLED


def _run(args: list[str]) -> int:
    from ditto_desk.core.quiet import quiet_libraries

    quiet_libraries()
    from ditto_desk.cli.exit_codes import EXIT_FAILED

    if not wants_window(args):
        from ditto_desk.cli.main import main as command_line

        return command_line(args)
    try:
        from ditto_desk.ui.app import main as window
    except ImportError as exc:
        print(f"The desktop window is not available ({exc}); use a command, e.g. `ditto-desk train --samples`.")
        return EXIT_FAILED
    return window(args)


if __name__ == "__main__":
    sys.exit(main())
