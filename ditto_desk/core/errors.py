"""The problems the core reports to a person, each worded for them: what happened and what to do about it.

Every such problem is a :class:`DittoDeskError`, of one of four kinds that the two faces tell apart: the
command line gives each kind its exit code, the window shows the message as it is. Anything else that is
raised is a bug, and both faces say so. Two exceptions live where they are raised, because they are not
problems a person can fix: ``progress.Cancelled`` (the user asked to stop) and
``training.adapters.ReferenceChangedError`` (an invariant of the engine broke).
"""

from __future__ import annotations

from pathlib import Path


class DittoDeskError(Exception):
    """A problem worded for the user: its message says what happened and what to do about it."""


class UsageError(DittoDeskError):
    """A request the app cannot take as it was put: an unknown setting or preset, a value out of range, options
    that do not go together. Refused before any work starts."""


class SettingError(UsageError):
    """A setting that does not exist or has a value it does not accept; the message says which and why."""


class InputError(DittoDeskError):
    """What was given cannot be used: nothing to learn from, an edit that changes nothing, a file or a profile
    that cannot be read or is busy."""


class ProfileError(InputError):
    """A problem with a profile (``path``: the file or folder it is about, if any)."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class ProfileBusyError(ProfileError):
    """Another window or process holds the profile (it is training it, or saving it)."""


class ArchiveError(ProfileError):
    """A profile archive that can't be imported (or written); the message says why and what to do."""


class Refused(InputError):
    """Raised inside a single file's import to refuse it with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GGUFAdapterError(InputError):
    """The adapter could not be written as GGUF (no llama.cpp converter named, or the converter failed)."""


class ModelError(DittoDeskError):
    """A model could not be found or loaded; the message says what to do."""


class AtomicWriteError(DittoDeskError, OSError):
    """A write that failed and was rolled back: the target file is exactly as it was before.

    An OSError too (so ``except OSError`` handlers and ``.errno`` keep working) whose ``str()`` is always the
    user-facing message, whatever errno/filename are set to."""

    def __init__(self, message: str, errno_: int | None = None, filename: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno_
        self.filename = filename

    def __str__(self) -> str:
        return self.message


class DiskFullError(AtomicWriteError):
    """The write failed because the disk (or the user's quota) is full; nothing was changed."""
