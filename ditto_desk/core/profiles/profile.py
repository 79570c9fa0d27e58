"""One loaded profile: reading its folder, saving its texts, committing a trained adapter,
going back to an earlier one (versions.py), and keeping the drafts the user corrected (edits.py).

A new adapter becomes active only when profile.json is atomically replaced to point at it: the single
commit point. Before it, any failure or interrupt removes the new folder and leaves the old profile;
after it, nothing is rolled back, whatever happens: what the learning changes beside the adapter (texts added,
edits taught) is recorded at that same point and made then or, after a crash, when the profile is next opened
(pending.py). Commits hold the profile's lock (lock.py).
Every training leaves a version (``adapters/<stamp>``): the newest ``KEPT_VERSIONS`` and the pinned ones
are kept, and any of them can be made current again, by the same atomic replace of profile.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ditto_desk.core.atomic import atomic_write_json, fsync_dir, is_disk_full
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.adapter_folder import ADAPTERS_DIR, check_adapter, check_written, seal
from ditto_desk.core.profiles.edits import EDITS_FILE, Edit, check_edit, edits_json, load_edits
from ditto_desk.core.profiles.json_files import check_settings, load_demonstrations, parse_json, read_json_of
from ditto_desk.core.profiles.lock import ProfileLock
from ditto_desk.core.profiles.pending import PENDING, CommitChange, EditKey
from ditto_desk.core.profiles.record import TrainingRecord
from ditto_desk.core.profiles.versions import ProfileVersions, is_plain_dir_name
from ditto_desk.core.texts.demonstration import Demonstration, split_new

FORMAT = 1
PROFILE_FILE = "profile.json"
DEMOS_FILE = "demonstrations.json"
SETTINGS_FILE = "settings.json"
TMP_PREFIX = ".tmp-"
# A commit takes seconds; a commit that finds the profile held longer than this (a training run in
# another window) is refused rather than left waiting.
COMMIT_WAIT_S = 30.0
EDIT_WAIT_S = 3.0  # keeping an edit runs on the window's own thread: a busy profile is said, not waited for
_UNREADABLE = object()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_stamp() -> str:
    # Sorts chronologically; the random tail keeps two commits in the same microsecond apart.
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


class Profile(ProfileVersions):
    """One loaded profile. Build it with :meth:`ProfileStore.load` / :meth:`ProfileStore.create`."""

    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        demonstrations: list[Demonstration],
        active_adapter_dir: Path | None,
        training_log: list[dict[str, Any]],
    ) -> None:
        self.path = path
        self.name = path.name
        self.demonstrations = demonstrations
        self.active_adapter_dir = active_adapter_dir
        self.training_log = training_log
        self._meta = meta
        self._lock = ProfileLock(path)

    def __repr__(self) -> str:
        adapter = self.active_adapter_dir.name if self.active_adapter_dir is not None else None
        return f"Profile({self.name!r}, adapter={adapter})"

    @property
    def created(self) -> str | None:
        value = self._meta.get("created")
        return value if isinstance(value, str) else None

    @property
    def adapters_dir(self) -> Path:
        return self.path / ADAPTERS_DIR

    @property
    def has_adapter(self) -> bool:
        return self.active_adapter_dir is not None

    @property
    def record(self) -> TrainingRecord | None:
        """What the current style's learning said about itself, if it is learned."""
        return TrainingRecord.of_log(self.training_log)

    @contextmanager
    def training(self) -> Iterator[None]:
        """Hold the profile for a whole training run. Another run on it (another window, a terminal) is
        refused at once with :class:`~.profile_lock.ProfileBusyError`: waiting minutes for it, only to
        overwrite its result, would help no one. This run's own commit goes through."""
        with self._lock.held(wait=0):
            yield

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, *, verify: bool = True) -> Profile:
        name = path.name
        restore = f"Restore the folder {path} from a backup, or delete the profile and create it again."
        meta = read_json_of(path / PROFILE_FILE, name, dict, "a profile description", restore)
        fmt = meta.get("format")
        if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > FORMAT:
            raise ProfileError(
                f"The profile '{name}' was saved by a newer version of Ditto Desk (format {fmt}). "
                "Update Ditto Desk to open it.",
                path / PROFILE_FILE,
            )
        active = meta.get("active_adapter")
        if fmt != FORMAT or (active is not None and not is_plain_dir_name(active)):
            problem = "has no valid format number" if fmt != FORMAT else "names an invalid adapter folder"
            raise ProfileError(
                f"The profile '{name}' is damaged: {PROFILE_FILE} {problem}. {restore}", path / PROFILE_FILE
            )

        demonstrations = load_demonstrations(path / DEMOS_FILE, name)
        check_settings(path / SETTINGS_FILE, name)

        adapter_dir: Path | None = None
        log: list[dict[str, Any]] = []
        if active is not None:
            adapter_dir = path / ADAPTERS_DIR / active
            log, _ = check_adapter(adapter_dir, name, hash_files=verify)
        profile = cls(path, meta, demonstrations, adapter_dir, log)
        # A learning that died right after its commit point: its change is made now. Busy means the learning is
        # still making it; a failure (a full disk) leaves it recorded for the next opening.
        with contextlib.suppress(ProfileError):
            profile._finish_change(wait=0)
        return profile

    def verify(self) -> None:
        """Re-hash the active adapter against its manifest (e.g. right before loading it into a model)."""
        if self.active_adapter_dir is not None:
            check_adapter(self.active_adapter_dir, self.name, hash_files=True)

    # -- saving ------------------------------------------------------------------------------------

    def _save_failed(self, what: str, exc: OSError) -> ProfileError:
        if is_disk_full(exc):
            return ProfileError(
                f"The disk is full: could not save {what} of the profile '{self.name}'. Nothing was "
                "changed; free some disk space and try again.",
                self.path,
            )
        reason = exc.strerror or str(exc)
        return ProfileError(
            f"Could not save {what} of the profile '{self.name}' ({reason}). Nothing was changed.",
            self.path,
        )

    def _write_json(self, path: Path, obj: Any, what: str) -> None:
        try:
            atomic_write_json(path, obj)
        except OSError as exc:
            raise self._save_failed(what, exc) from exc

    def _write_meta(self, meta: dict[str, Any], what: str) -> None:
        self._write_json(self.path / PROFILE_FILE, meta, what)

    def save_demonstrations(self, demos: Iterable[Demonstration]) -> None:
        """Atomically replace demonstrations.json, then the in-memory list."""
        demos = list(demos)
        self._write_json(self.path / DEMOS_FILE, [d.to_json() for d in demos], "the demonstrations")
        self.demonstrations = demos

    def add_demonstrations(self, demos: Iterable[Demonstration], *, replace: bool = False) -> list[Demonstration]:
        """Add the texts the profile does not hold yet (:func:`~.demos.text_key` decides), or with ``replace``
        make them the profile's texts; return the ones added. The list is read again from disk first, so
        edits saved meanwhile by another window are kept."""
        current = [] if replace else load_demonstrations(self.path / DEMOS_FILE, self.name)
        added, _ = split_new(current, demos)
        if added or replace:
            self.save_demonstrations(current + added)
        else:
            self.demonstrations = current
        return added

    def commit_adapter(
        self,
        write_files: Callable[[Path], None],
        training_log: list[dict[str, Any]],
        change: CommitChange | None = None,
    ) -> Path:
        """Store a newly trained adapter and make it the active one, with ``change`` (texts to add, edits taught),
        all or nothing.

        ``write_files(tmpdir)`` writes the PEFT files (``adapter_model.safetensors``,
        ``adapter_config.json``) into a hidden temporary folder. Then the training log and a manifest
        (size + sha256 of every file) are written, everything is fsynced, the folder is renamed to
        ``adapters/<stamp>`` and profile.json is atomically replaced to point at it: that replace is the
        commit point. Older adapters and stale temporary folders are removed afterwards.

        If anything fails before the commit point the new folder is removed, the profile on disk and in
        memory is exactly as before, and the exception propagates (a full disk, from ``write_files`` or
        from our own writes, becomes a :class:`ProfileError` saying so). An exception after it (a second
        Ctrl+C) still propagates, but the new adapter stays: profile.json already points at it.
        Holds the profile's lock throughout, waiting up to ``COMMIT_WAIT_S`` for another holder.
        Returns the new adapter folder.
        """
        # Serialise first: a log that isn't JSON must fail before the disk is touched.
        log = json.loads(json.dumps(list(training_log)))
        with self._lock.held(wait=COMMIT_WAIT_S):
            stamp = new_stamp()
            final = self._write_adapter(stamp, write_files, log, change)
            try:
                self._finish_change(wait=COMMIT_WAIT_S)
            except ProfileError as exc:
                cause = exc.__cause__
                reason = (cause.strerror if isinstance(cause, OSError) else None) or str(cause or exc)
                raise ProfileError(
                    f"The new style was learned and saved, but the texts or edits it was learned from could not be "
                    f"recorded with it yet ({reason}). That is done the next time the profile is opened (free some "
                    "disk space first if the disk is full).",
                    exc.path,
                ) from exc
            self._prune_versions()
        return final

    def _write_adapter(
        self, stamp: str, write_files: Callable[[Path], None], log: list[dict[str, Any]], change: CommitChange | None
    ) -> Path:
        adapters = self.adapters_dir
        made_adapters_dir = not adapters.exists()
        tmp = adapters / f"{TMP_PREFIX}{stamp}"
        final = adapters / stamp
        versions = self._kept_versions(stamp)
        # Each version remembers the one that was current when it was made: what its undo goes back to.
        made_from = {v: p for v, p in self._made_from().items() if v in versions}
        if self.active_adapter_dir is not None:
            made_from[stamp] = self.active_adapter_dir.name
        new_meta = {
            **self._meta,
            "format": FORMAT,
            "name": self.name,
            "active_adapter": stamp,
            "versions": versions,
            "made_from": made_from,
            **({PENDING: change.to_json()} if change is not None else {}),
        }
        what = "the trained adapter"
        try:
            try:
                adapters.mkdir(exist_ok=True)
                tmp.mkdir()
            except OSError as exc:
                raise self._save_failed(what, exc) from exc
            try:
                write_files(tmp)
            except OSError as exc:
                if is_disk_full(exc):
                    raise self._save_failed(what, exc) from exc
                raise
            check_written(tmp, self.name)
            try:
                seal(tmp, log)
                os.rename(tmp, final)
                fsync_dir(adapters)
            except OSError as exc:
                raise self._save_failed(what, exc) from exc
            self._write_json(self.path / PROFILE_FILE, new_meta, what)  # <- the commit point
        except BaseException:
            # An exception may arrive after profile.json was replaced (inside the atomic write, between
            # the rename and its return): then the new adapter is the profile's, and must stay.
            on_disk = self._active_on_disk()
            if on_disk == stamp:
                self._committed(new_meta, final, log)
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            if on_disk is not _UNREADABLE:  # unsure: an unreferenced folder is harmless, a missing one is not
                shutil.rmtree(final, ignore_errors=True)
            if made_adapters_dir:
                with contextlib.suppress(OSError):
                    adapters.rmdir()
            raise
        self._committed(new_meta, final, log)
        return final

    def _active_on_disk(self) -> object:
        """The adapter profile.json names now, or ``_UNREADABLE``."""
        try:
            meta = parse_json((self.path / PROFILE_FILE).read_bytes())
        except (OSError, ValueError):
            return _UNREADABLE
        return meta.get("active_adapter") if isinstance(meta, dict) else _UNREADABLE

    def _committed(self, meta: dict[str, Any], final: Path, log: list[dict[str, Any]]) -> None:
        self._meta = meta
        self.active_adapter_dir = final
        self.training_log = log

    # -- taught edits ------------------------------------------------------------------------------

    def edits(self) -> list[Edit]:
        """Every edit the profile keeps, oldest first, read from disk (another window may have added one)."""
        return load_edits(self.path / EDITS_FILE, self.name)

    def waiting_edits(self) -> list[Edit]:
        """The edits the current style has not learned from yet."""
        current = self.active_adapter_dir.name if self.active_adapter_dir else None
        return [e for e in self.edits() if e.waiting(current)]

    def add_edit(self, request: str, draft: str, edited: str) -> Edit:
        """Keep a corrected draft to teach with; one that changes nothing is refused (InputError says why). The same
        edit still waiting (a retry after a cancelled update) is kept once: that one is returned."""
        check_edit(request, draft, edited)
        edit = Edit(request.strip(), draft.strip(), edited.strip(), now_iso())
        with self._lock.held(wait=EDIT_WAIT_S):
            edits = self.edits()
            current = self.active_adapter_dir.name if self.active_adapter_dir else None
            same = (edit.request, edit.draft, edit.edited)
            for kept in edits:
                if (kept.request, kept.draft, kept.edited) == same and kept.waiting(current):
                    return kept
            self._write_json(self.path / EDITS_FILE, edits_json([*edits, edit]), "the edit")
        return edit

    def _finish_change(self, wait: float) -> None:
        """Make the change recorded with the current version at its commit (pending.py), then drop the record."""
        if PENDING not in self._meta:
            return
        with self._lock.held(wait=wait):
            change = CommitChange.from_json(self._meta[PENDING])
            if change is not None and change.changes_texts:
                self.add_demonstrations(change.texts, replace=change.replace_texts)
            if change is not None and change.taught and self.active_adapter_dir is not None:
                self._mark_taught(set(change.taught), self.active_adapter_dir.name)
            meta = {k: v for k, v in self._meta.items() if k != PENDING}
            self._write_json(self.path / PROFILE_FILE, meta, "the end of the learning")
            self._meta = meta

    def _mark_taught(self, keys: set[EditKey], version: str) -> None:
        """Record that the update committed as ``version`` learned from the edits ``keys`` name."""
        edits = [e.taught(version) if e.key in keys else e for e in self.edits()]
        self._write_json(self.path / EDITS_FILE, edits_json(edits), "which edits were taught")
