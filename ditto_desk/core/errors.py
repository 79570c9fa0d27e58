"""The problems the core reports to a person, each worded for them: what happened and what to do about it."""

from __future__ import annotations

from pathlib import Path


class ModelError(Exception):
    """A model could not be found or loaded; the message says what to do."""


class SettingError(ValueError):
    """A setting that does not exist or has a value it does not accept; the message says which and why."""


class ProfileError(Exception):
    """A problem with a profile, worded for the user: what happened and what to do about it."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class ProfileBusyError(ProfileError):
    """Another window or process holds the profile (it is training it, or saving it)."""


class ArchiveError(ProfileError):
    """A profile archive that can't be imported (or written); the message says why and what to do."""


class Refused(Exception):
    """Raised inside a single file's import to refuse it with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GGUFAdapterError(Exception):
    """The adapter could not be written as GGUF; the message says why and what to do."""


class AtomicWriteError(OSError):
    """A write that failed and was rolled back: the target file is exactly as it was before.

    An OSError (so existing ``except OSError`` handlers and ``.errno`` keep working) whose ``str()`` is
    always the user-facing message, whatever errno/filename are set to."""

    def __init__(self, message: str, errno_: int | None = None, filename: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno_
        self.filename = filename

    def __str__(self) -> str:
        return self.message


class DiskFullError(AtomicWriteError):
    """The write failed because the disk (or the user's quota) is full; nothing was changed."""
