"""A profile's kept versions of its learned style: which there are, going back to one, pinning, and pruning.

Each learning leaves a version (``adapters/<stamp>``); the newest ``KEPT_VERSIONS`` and the pinned ones are kept,
and any of them can be made current again by the atomic replace of profile.json that commits a learning.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.adapter_folder import check_adapter
from ditto_desk.core.profiles.lock import ProfileLock

KEPT_VERSIONS = 5  # unpinned adapter versions kept, the current one among them
# Choosing a version or a pin waits a moment for another save, not for a whole training: that is said at once.
CHOICE_WAIT_S = 3.0


def is_plain_dir_name(value: object) -> bool:
    return (
        isinstance(value, str) and bool(value) and not value.startswith(".") and not any(c in value for c in "/\\:\0")
    )


class ProfileVersions:
    """The versions part of :class:`~.profile.Profile` (which provides these attributes)."""

    name: str
    path: Path
    active_adapter_dir: Path | None
    _meta: dict[str, Any]
    _lock: ProfileLock

    @property
    def adapters_dir(self) -> Path:
        raise NotImplementedError

    def _write_meta(self, meta: dict[str, Any], what: str) -> None:
        raise NotImplementedError

    def _committed(self, meta: dict[str, Any], final: Path, log: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    @property
    def pinned(self) -> list[str]:
        value = self._meta.get("pinned_adapters")
        return [v for v in value if is_plain_dir_name(v)] if isinstance(value, list) else []

    def versions(self) -> list[str]:
        """The committed adapter versions on disk, newest first (their names sort by when they were trained).
        A folder left by a training that never committed is not one."""
        listed = self._meta.get("versions")
        names = {v for v in listed if is_plain_dir_name(v)} if isinstance(listed, list) else set()
        active = self._meta.get("active_adapter")
        if is_plain_dir_name(active):
            names.add(active)  # a profile from before versions names its one adapter only here
        return sorted((v for v in names if (self.adapters_dir / v).is_dir()), reverse=True)

    def use_version(self, stamp: str) -> None:
        """Make the adapter version ``stamp`` current again, exactly as it was saved (checked first)."""
        if stamp not in self.versions():
            raise ProfileError(f"The profile '{self.name}' has no version {stamp!r}.", self.adapters_dir / stamp)
        with self._lock.held(wait=CHOICE_WAIT_S):
            folder = self.adapters_dir / stamp
            log, _ = check_adapter(folder, self.name, hash_files=True)
            meta = {**self._meta, "active_adapter": stamp}
            self._write_meta(meta, "the choice of version")
            self._committed(meta, folder, log)

    def undo(self) -> str:
        """Go back to the version the current one was made from (or, for a version from before that was
        recorded, the one trained before it); returns its name."""
        current = self.active_adapter_dir.name if self.active_adapter_dir else None
        kept = self.versions()
        parent = self._made_from().get(current or "")
        if parent not in kept:
            older = [v for v in kept if current is not None and v < current]
            parent = older[0] if older else None
        if parent is None:
            raise ProfileError(f"The profile '{self.name}' has no earlier learned style to go back to.", self.path)
        self.use_version(parent)
        return parent

    def _made_from(self) -> dict[str, str]:
        recorded = self._meta.get("made_from")
        if not isinstance(recorded, dict):
            return {}
        return {v: p for v, p in recorded.items() if is_plain_dir_name(v) and is_plain_dir_name(p)}

    def pin(self, stamp: str, pinned: bool = True) -> None:
        """Keep (or stop keeping) the version ``stamp`` whatever the number of newer ones."""
        if stamp not in self.versions():
            raise ProfileError(f"The profile '{self.name}' has no version {stamp!r}.", self.adapters_dir / stamp)
        with self._lock.held(wait=CHOICE_WAIT_S):
            kept = [v for v in self.pinned if v != stamp] + ([stamp] if pinned else [])
            meta = {**self._meta, "pinned_adapters": kept}
            self._write_meta(meta, "the pinned versions")
            self._meta = meta

    def _kept_versions(self, new: str) -> list[str]:
        """The versions to keep once ``new`` is committed: the newest unpinned ones and every pinned one."""
        candidates = sorted({*self.versions(), new}, reverse=True)
        unpinned = [v for v in candidates if v not in self.pinned]
        return [v for v in candidates if v in self.pinned or v in unpinned[:KEPT_VERSIONS]]

    def _prune_versions(self) -> None:
        # After the commit: best effort. Anything left (e.g. a file Windows still holds open) is not a
        # version profile.json lists, and goes at the next commit; so does a crashed training's folder.
        keep = set(self.versions())
        with contextlib.suppress(OSError):
            for entry in self.adapters_dir.iterdir():
                if entry.is_dir() and entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True)
