"""The command line's exit codes, and what each means: the one place they are written (``--help`` prints them)."""

from __future__ import annotations

from ditto_desk.core.errors import DittoDeskError, InputError, ModelError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_MODEL, EXIT_CANCELLED = 0, 1, 2, 3, 4, 130

MEANINGS = {
    EXIT_OK: "done",
    EXIT_FAILED: "failed: the message says why; an unexpected error prints its traceback, to report",
    EXIT_USAGE: "bad usage: an unknown setting or preset, a value out of range, options that do not go together "
    "(checked before anything loads, naming the setting and what it accepts)",
    EXIT_BAD_INPUT: "bad input: no demonstrations, an edit that changes nothing, a damaged profile or archive, "
    "a profile being trained elsewhere",
    EXIT_MODEL: "the model could not be loaded",
    EXIT_CANCELLED: "cancelled with Ctrl+C: nothing was changed",
}


def exit_code_for(problem: DittoDeskError) -> int:
    """The exit code of a problem the core worded for the user."""
    if isinstance(problem, UsageError):
        return EXIT_USAGE
    if isinstance(problem, InputError):
        return EXIT_BAD_INPUT
    if isinstance(problem, ModelError):
        return EXIT_MODEL
    return EXIT_FAILED


def exit_codes_text() -> str:
    """The exit codes as ``--help`` lists them."""
    return "exit codes:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in MEANINGS.items())
