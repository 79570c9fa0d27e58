"""One profile, one writer: an inter-process lock per profile (``filelock``: flock on POSIX, a locked
handle on Windows; the OS drops it when its process dies, so a crash never leaves a profile locked).

Two windows, or the window and the command line, must never save one profile at once: each commit
removes the adapter folders it did not write, so two interleaved commits delete each other's adapter.

The lock files live in ``<root>/.locks/<profile>.lock``, outside the profile folders: filelock creates
a missing parent folder, which inside a profile would bring a deleted profile back as an empty folder,
and a rename or delete moves the folder, not the name being locked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from ditto_desk.core.errors import ProfileBusyError, ProfileError

LOCKS_DIR = ".locks"


class ProfileLock:
    """The lock of the profile folder ``path``. Re-entrant within one thread on the same instance, so a
    training run that holds it can commit its adapter; any other holder, even in this process, waits."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.path = path.parent / LOCKS_DIR / f"{path.name}.lock"
        self._lock = FileLock(self.path)

    @contextmanager
    def held(self, wait: float) -> Iterator[None]:
        """Hold the lock, waiting at most ``wait`` seconds for another holder (0: don't wait)."""
        try:
            self._lock.acquire(timeout=wait)
        except Timeout:
            raise ProfileBusyError(
                f"The profile '{self.name}' is being trained or saved elsewhere (in another Ditto Desk window "
                "or in a terminal). Wait for that to finish, then try again; nothing was changed.",
                self.path,
            ) from None
        except OSError as exc:
            raise ProfileError(
                f"Could not lock the profile '{self.name}' for saving ({exc.strerror or exc}). Check that "
                f"{self.path.parent.parent} is writable, then try again; nothing was changed.",
                self.path,
            ) from exc
        try:
            yield
        finally:
            self._lock.release()
