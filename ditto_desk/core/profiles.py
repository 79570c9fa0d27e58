"""Profiles on disk: one folder per person, holding their demonstrations, settings and trained adapter.

Layout of ``<root>/<name>/``::

    profile.json          {"format": 1, "name": ..., "created": iso, "active_adapter": null | "<stamp>"}
    demonstrations.json   [Demonstration.to_json(), ...]
    settings.json         {...}  (free-form: the caller's training/model settings)
    adapters/<stamp>/     adapter_model.safetensors, adapter_config.json (PEFT), training-log.json,
                          manifest.json {"files": {name: {"size", "sha256"}}, "created": iso}

Only JSON and safetensors are ever read back; nothing is unpickled. Every write is atomic, and a new
adapter becomes active only when profile.json is atomically replaced to point at it (the single commit
point), so a crash at any moment leaves either the old profile or the new one. The folder name is the
profile's name; the copy inside profile.json is informational.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import platformdirs

from .atomic import (
    atomic_copy_file,
    atomic_write_json,
    fsync_dir,
    fsync_file,
    is_disk_full,
)
from .demos import Demonstration

FORMAT = 1
MAX_NAME_LENGTH = 80

PROFILE_FILE = "profile.json"
DEMOS_FILE = "demonstrations.json"
SETTINGS_FILE = "settings.json"
ADAPTERS_DIR = "adapters"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
TRAINING_LOG = "training-log.json"
MANIFEST = "manifest.json"

# Our own bookkeeping inside an adapter folder; everything else there is the PEFT adapter proper.
_BOOKKEEPING = {TRAINING_LOG, MANIFEST}
_TMP_PREFIX = ".tmp-"
_TRASH = ".trash"
# Refused everywhere (not only on Windows) so a profile folder can be copied to any machine.
_FORBIDDEN_CHARS = '<>:"/\\|?*'
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
_HASH_CHUNK = 1 << 20


class ProfileError(Exception):
    """A problem with a profile, worded for the user: what happened and what to do about it."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


def default_profiles_root() -> Path:
    """``$DITTO_DESK_HOME/profiles`` if that variable is set, else the platform's per-user data folder."""
    home = os.environ.get("DITTO_DESK_HOME")
    if home:
        return Path(home).expanduser() / "profiles"
    # appauthor=False: no "ditto-desk\ditto-desk" doubling on Windows.
    return Path(platformdirs.user_data_dir("ditto-desk", appauthor=False)) / "profiles"


def validate_profile_name(name: object) -> str:
    """Return the cleaned name (surrounding spaces dropped, Unicode NFC) or raise :class:`ProfileError`."""
    if not isinstance(name, str) or not name.strip():
        raise ProfileError("Please enter a name for the profile.")
    # NFC so a name typed on macOS (which may hand us NFD) matches the same name typed elsewhere.
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > MAX_NAME_LENGTH:
        raise ProfileError(
            f"A profile name can have at most {MAX_NAME_LENGTH} characters (this one has {len(name)}). "
            "Choose a shorter name."
        )
    if name in (".", ".."):
        raise ProfileError(f"'{name}' can't be used as a profile name. Choose another name.")
    if any(c in _FORBIDDEN_CHARS for c in name):
        raise ProfileError(
            "A profile name can't contain path separators (/ or \\) or any of < > : \" | ? *. Choose another name."
        )
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ProfileError(
            "A profile name can't contain control characters such as tabs or line breaks. Choose another name."
        )
    if name.startswith("."):
        raise ProfileError("A profile name can't start with a dot. Choose another name.")
    if name.endswith("."):
        # Windows silently drops a trailing dot, which would make two names share one folder.
        raise ProfileError("A profile name can't end with a dot. Choose another name.")
    if name.split(".")[0].strip().upper() in _RESERVED_NAMES:
        raise ProfileError(
            f"'{name}' is a reserved device name on Windows and can't be used for a profile. Choose another name."
        )
    return name


def _name_key(name: str) -> str:
    # Profile names are unique ignoring case on every platform, so a profile folder moved from Linux
    # to a case-insensitive disk (macOS, Windows) never collides with another.
    return unicodedata.normalize("NFC", name.strip()).casefold()


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_stamp() -> str:
    # Sorts chronologically; the random tail keeps two commits in the same microsecond apart.
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


def _is_plain_dir_name(value: object) -> bool:
    return (
        isinstance(value, str) and bool(value) and not value.startswith(".") and not any(c in value for c in "/\\:\0")
    )


def _safe_relpath(value: object) -> PurePosixPath | None:
    """A manifest entry as a relative path that stays inside its folder, or None if it doesn't."""
    if not isinstance(value, str) or not value or "\\" in value or ":" in value or "\0" in value:
        return None
    rel = PurePosixPath(value)
    # str(rel) != value catches "a//b" and "./a", which PurePosixPath silently normalises.
    if rel.is_absolute() or str(rel) != value or any(part in (".", "..") for part in rel.parts):
        return None
    return rel


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _describe(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _read_json(path: Path, profile: str, damaged_advice: str) -> Any:
    """Parse a JSON file, turning every failure into a ProfileError that names the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(
            f"The profile '{profile}' is damaged: {path.name} is missing. {damaged_advice}", path
        ) from None
    except OSError as exc:
        raise ProfileError(
            f"Could not read {path.name} of the profile '{profile}' ({exc.strerror or exc}). "
            f"Check that {path.parent} is readable and try again.",
            path,
        ) from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProfileError(
            f"The profile '{profile}' is damaged: {path.name} is not valid JSON ({exc}). {damaged_advice}",
            path,
        ) from exc


def _adapter_damaged(profile: str, folder: Path, problem: str) -> ProfileError:
    return ProfileError(
        f"The trained adapter of the profile '{profile}' is damaged ({problem}). "
        f"Retrain the profile, or restore {folder} from a backup.",
        folder,
    )


def _check_adapter(folder: Path, profile: str, *, hash_files: bool) -> tuple[list[dict[str, Any]], list[PurePosixPath]]:
    """Check an adapter folder against its manifest. Returns (training log, manifest file paths)."""
    if not folder.is_dir():
        raise ProfileError(
            f"The trained adapter of the profile '{profile}' is missing (folder "
            f"{ADAPTERS_DIR}/{folder.name} not found). Retrain the profile, or restore that folder "
            "from a backup.",
            folder,
        )
    advice = f"Retrain the profile, or restore {folder} from a backup."
    manifest = _read_json(folder / MANIFEST, profile, advice)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise _adapter_damaged(profile, folder, f"file {MANIFEST} does not list the adapter's files")
    for required in (ADAPTER_WEIGHTS, ADAPTER_CONFIG, TRAINING_LOG):
        if required not in files:
            raise _adapter_damaged(profile, folder, f"file {required} is missing from {MANIFEST}")
    rels: list[PurePosixPath] = []
    for name, entry in files.items():
        rel = _safe_relpath(name)
        if (
            rel is None
            or not isinstance(entry, dict)
            or not isinstance(entry.get("size"), int)
            or not isinstance(entry.get("sha256"), str)
        ):
            raise _adapter_damaged(profile, folder, f"file {MANIFEST} has an invalid entry for {name!r}")
        path = folder / rel
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError:
            size = None
        if size is None:
            raise _adapter_damaged(profile, folder, f"file {name} is missing")
        if size != entry["size"]:
            raise _adapter_damaged(profile, folder, f"file {name} changed or is incomplete")
        rels.append(rel)
    if hash_files:
        for rel in rels:
            try:
                digest = _sha256(folder / rel)
            except OSError as exc:
                raise _adapter_damaged(profile, folder, f"file {rel} can't be read: {exc}") from exc
            if digest != files[str(rel)]["sha256"]:
                raise _adapter_damaged(profile, folder, f"file {rel} changed or is incomplete")
    log = _read_json(folder / TRAINING_LOG, profile, advice)
    if not isinstance(log, list):
        raise _adapter_damaged(profile, folder, f"file {TRAINING_LOG} does not hold a list")
    return log, rels


def _check_safetensors_header(path: Path) -> bool:
    """Cheap sanity check that a file is safetensors: 8-byte header length, then a JSON object."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if size < 8 or n > size - 8 or n > 100_000_000:
                return False
            return isinstance(json.loads(f.read(n).decode("utf-8")), dict)
    except (OSError, ValueError):
        return False


class Profile:
    """One loaded profile. Build it with :meth:`ProfileStore.load` / :meth:`ProfileStore.create`."""

    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        demonstrations: list[Demonstration],
        settings: dict[str, Any],
        active_adapter_dir: Path | None,
        training_log: list[dict[str, Any]],
    ) -> None:
        self.path = path
        self.name = path.name
        self.demonstrations = demonstrations
        self.settings = settings
        self.active_adapter_dir = active_adapter_dir
        self.training_log = training_log
        self._meta = meta

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, adapter={self.active_adapter_dir.name if self.has_adapter else None})"

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

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def _load(cls, path: Path, *, verify: bool = True) -> Profile:
        name = path.name
        restore = f"Restore the folder {path} from a backup, or delete the profile and create it again."
        meta = _read_json(path / PROFILE_FILE, name, restore)
        if not isinstance(meta, dict):
            raise ProfileError(
                f"The profile '{name}' is damaged: {PROFILE_FILE} holds {_describe(meta)} instead of a "
                f"profile description. {restore}",
                path / PROFILE_FILE,
            )
        fmt = meta.get("format")
        if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > FORMAT:
            raise ProfileError(
                f"The profile '{name}' was saved by a newer version of Ditto Desk (format {fmt}). "
                "Update Ditto Desk to open it.",
                path / PROFILE_FILE,
            )
        active = meta.get("active_adapter")
        if fmt != FORMAT or (active is not None and not _is_plain_dir_name(active)):
            problem = "has no valid format number" if fmt != FORMAT else "names an invalid adapter folder"
            raise ProfileError(
                f"The profile '{name}' is damaged: {PROFILE_FILE} {problem}. {restore}", path / PROFILE_FILE
            )

        demonstrations = cls._load_demonstrations(path / DEMOS_FILE, name)
        settings = cls._load_settings(path / SETTINGS_FILE, name)

        adapter_dir: Path | None = None
        log: list[dict[str, Any]] = []
        if active is not None:
            adapter_dir = path / ADAPTERS_DIR / active
            log, _ = _check_adapter(adapter_dir, name, hash_files=verify)
        return cls(path, meta, demonstrations, settings, adapter_dir, log)

    @staticmethod
    def _load_demonstrations(path: Path, profile: str) -> list[Demonstration]:
        # A missing file just means "no demonstrations yet": the user loses nothing they could recover.
        if not path.exists():
            return []
        advice = f"Fix or delete {path} (the profile then starts with no demonstrations), or restore it from a backup."
        raw = _read_json(path, profile, advice)
        if not isinstance(raw, list):
            raise ProfileError(
                f"The profile '{profile}' is damaged: {DEMOS_FILE} holds {_describe(raw)} instead of a "
                f"list of demonstrations. {advice}",
                path,
            )
        demos = []
        for i, item in enumerate(raw, start=1):
            try:
                demos.append(Demonstration.from_json(item))
            except (ValueError, TypeError) as exc:
                raise ProfileError(
                    f"The profile '{profile}' is damaged: entry {i} of {DEMOS_FILE} is not a valid "
                    f"demonstration ({exc}). {advice}",
                    path,
                ) from exc
        return demos

    @staticmethod
    def _load_settings(path: Path, profile: str) -> dict[str, Any]:
        if not path.exists():
            return {}
        advice = f"Fix or delete {path} (default settings are then used), or restore it from a backup."
        raw = _read_json(path, profile, advice)
        if not isinstance(raw, dict):
            raise ProfileError(
                f"The profile '{profile}' is damaged: {SETTINGS_FILE} holds {_describe(raw)} instead of "
                f"an object of settings. {advice}",
                path,
            )
        return raw

    def verify(self) -> None:
        """Re-hash the active adapter against its manifest (e.g. right before loading it into a model)."""
        if self.active_adapter_dir is not None:
            _check_adapter(self.active_adapter_dir, self.name, hash_files=True)

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

    def save_demonstrations(self, demos: Iterable[Demonstration]) -> None:
        """Atomically replace demonstrations.json, then the in-memory list."""
        demos = list(demos)
        self._write_json(self.path / DEMOS_FILE, [d.to_json() for d in demos], "the demonstrations")
        self.demonstrations = demos

    def save_settings(self, settings: Mapping[str, Any]) -> None:
        """Atomically replace settings.json, then the in-memory dict (a JSON round-trip copy, so the
        in-memory copy is exactly what a later load returns)."""
        data = json.loads(json.dumps(dict(settings)))
        self._write_json(self.path / SETTINGS_FILE, data, "the settings")
        self.settings = data

    def commit_adapter(self, write_files: Callable[[Path], None], training_log: list[dict[str, Any]]) -> Path:
        """Store a newly trained adapter and make it the active one, all or nothing.

        ``write_files(tmpdir)`` writes the PEFT files (``adapter_model.safetensors``,
        ``adapter_config.json``) into a hidden temporary folder. Then the training log and a manifest
        (size + sha256 of every file) are written, everything is fsynced, the folder is renamed to
        ``adapters/<stamp>`` and profile.json is atomically replaced to point at it: that replace is the
        commit point. Older adapters and stale temporary folders are removed afterwards.

        If anything fails before the commit point the new folder is removed, the profile on disk and in
        memory is exactly as before, and the exception propagates (a full disk, from ``write_files`` or
        from our own writes, becomes a :class:`ProfileError` saying so). Returns the new adapter folder.
        """
        # Serialise first: a log that isn't JSON must fail before the disk is touched.
        log = json.loads(json.dumps(list(training_log)))
        adapters = self.adapters_dir
        made_adapters_dir = not adapters.exists()
        stamp = _new_stamp()
        tmp = adapters / f"{_TMP_PREFIX}{stamp}"
        final = adapters / stamp
        new_meta = {**self._meta, "format": FORMAT, "name": self.name, "active_adapter": stamp}
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
            self._check_written(tmp)
            try:
                self._seal(tmp, log)
                os.rename(tmp, final)
                fsync_dir(adapters)
            except OSError as exc:
                raise self._save_failed(what, exc) from exc
            self._write_json(self.path / PROFILE_FILE, new_meta, what)  # <- the commit point
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            if made_adapters_dir:
                with contextlib.suppress(OSError):
                    adapters.rmdir()
            raise

        self._meta = new_meta
        self.active_adapter_dir = final
        self.training_log = log
        self._remove_other_adapters(keep=stamp)
        return final

    def _check_written(self, folder: Path) -> None:
        """Refuse to commit an adapter that ``write_files`` left incomplete or unreadable."""
        for required in (ADAPTER_WEIGHTS, ADAPTER_CONFIG):
            if not (folder / required).is_file():
                raise ProfileError(
                    f"The trained adapter was not saved completely ({required} is missing). The profile "
                    f"'{self.name}' was not changed; try training again.",
                    folder,
                )
        if not _check_safetensors_header(folder / ADAPTER_WEIGHTS):
            raise ProfileError(
                f"The trained adapter was not saved correctly ({ADAPTER_WEIGHTS} is not a valid "
                f"safetensors file). The profile '{self.name}' was not changed; try training again.",
                folder,
            )
        try:
            config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = None
        if not isinstance(config, dict):
            raise ProfileError(
                f"The trained adapter was not saved correctly ({ADAPTER_CONFIG} is not a JSON object). "
                f"The profile '{self.name}' was not changed; try training again.",
                folder,
            )

    @staticmethod
    def _seal(folder: Path, log: list[dict[str, Any]]) -> None:
        """Write the training log and manifest, and make every file and folder durable."""
        atomic_write_json(folder / TRAINING_LOG, log)
        files: dict[str, dict[str, Any]] = {}
        for path in _files_under(folder):
            rel = path.relative_to(folder).as_posix()
            if rel == MANIFEST:
                continue
            fsync_file(path)  # write_files (save_pretrained) need not have fsynced its files
            files[rel] = {"size": path.stat().st_size, "sha256": _sha256(path)}
        atomic_write_json(folder / MANIFEST, {"files": files, "created": _now_iso()})
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
            fsync_dir(sub)
        fsync_dir(folder)

    def _remove_other_adapters(self, keep: str) -> None:
        # After the commit: best effort. Anything left (e.g. a file Windows still holds open) is not
        # referenced by profile.json, is ignored on load, and goes at the next commit.
        with contextlib.suppress(OSError):
            for entry in self.adapters_dir.iterdir():
                if entry.name != keep and entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)


class ProfileStore:
    """All profiles under one root folder."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_profiles_root()

    def __repr__(self) -> str:
        return f"ProfileStore({str(self.root)!r})"

    def list(self) -> list[str]:
        """Names of the folders that look like profiles (have a profile.json), sorted ignoring case."""
        try:
            entries = list(os.scandir(self.root))
        except (FileNotFoundError, NotADirectoryError):
            return []
        names = [
            e.name
            for e in entries
            if not e.name.startswith(".") and e.is_dir() and os.path.isfile(os.path.join(e.path, PROFILE_FILE))
        ]
        return sorted(names, key=lambda n: (_name_key(n), n))

    def _resolve(self, name: object, *, any_folder: bool = False) -> str | None:
        """The folder name of the profile called ``name`` (matched ignoring case), or None.
        ``any_folder`` also matches folders without a profile.json, so loading one reports the damage
        instead of "no such profile"."""
        if not isinstance(name, str):
            return None
        if any_folder:
            try:
                names = sorted(e.name for e in os.scandir(self.root) if not e.name.startswith(".") and e.is_dir())
            except OSError:
                names = []
        else:
            names = self.list()
        if name in names:
            return name
        key = _name_key(name)
        return next((n for n in names if _name_key(n) == key), None)

    def _require(self, name: object, *, any_folder: bool = False) -> str:
        found = self._resolve(name, any_folder=any_folder)
        if found is None:
            raise ProfileError(f"There is no profile named '{name}'. Check the name, or create the profile.")
        return found

    def _check_free(self, name: str, ignore: str | None = None) -> None:
        """Refuse a name already used by a profile or by any other entry in the root (ignoring case)."""
        existing = self._resolve(name)
        if existing is not None and existing != ignore:
            raise ProfileError(f"A profile named '{existing}' already exists. Choose another name.")
        key = _name_key(name)
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.root):
                if entry.name != ignore and _name_key(entry.name) == key:
                    raise ProfileError(
                        f"Something named '{entry.name}' is already in {self.root} but is not a usable "
                        "profile. Move it away or delete it, or choose another name.",
                        Path(entry.path),
                    )

    def exists(self, name: str) -> bool:
        return self._resolve(name) is not None

    def load(self, name: str, *, verify: bool = True) -> Profile:
        """Load a profile, checking every file. ``verify=False`` skips hashing the adapter (sizes are
        still checked); call :meth:`Profile.verify` before trusting it."""
        return Profile._load(self.root / self._require(name, any_folder=True), verify=verify)

    def create(self, name: str) -> Profile:
        """Create an empty profile. It is built in a hidden folder and renamed into place, so it appears
        complete or not at all."""
        name = validate_profile_name(name)
        self._check_free(name)
        self._clean_leftovers()
        staging = self.root / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        meta = {"format": FORMAT, "name": name, "created": _now_iso(), "active_adapter": None}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
            (staging / ADAPTERS_DIR).mkdir()
            atomic_write_json(staging / DEMOS_FILE, [])
            atomic_write_json(staging / SETTINGS_FILE, {})
            atomic_write_json(staging / PROFILE_FILE, meta)
            fsync_dir(staging)
            os.rename(staging, self.root / name)
            fsync_dir(self.root)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            reason = exc.strerror or str(exc)
            raise ProfileError(
                f"Could not create the profile '{name}' in {self.root} ({reason}). Nothing was changed.",
                self.root,
            ) from exc
        return self.load(name)

    def get_or_create(self, name: str) -> Profile:
        return self.load(name) if self.exists(name) else self.create(name)

    def rename(self, old: str, new: str) -> None:
        """Rename a profile (a single folder rename; changing only the case works too)."""
        old_name = self._require(old)
        new_name = validate_profile_name(new)
        if new_name == old_name:
            return
        self._check_free(new_name, ignore=old_name)
        try:
            os.rename(self.root / old_name, self.root / new_name)
            fsync_dir(self.root)
        except OSError as exc:
            raise ProfileError(
                f"Could not rename the profile '{old_name}' to '{new_name}' ({exc.strerror or exc}). "
                "Nothing was changed; close any program using its files and try again.",
                self.root / old_name,
            ) from exc
        # The folder name is what counts; the copy in profile.json is cosmetic, so failing here is harmless.
        path = self.root / new_name / PROFILE_FILE
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(meta, dict):
                atomic_write_json(path, {**meta, "name": new_name})

    def delete(self, name: str) -> None:
        """Delete a profile: one rename moves it out of sight into a trash folder, which is then emptied,
        so a crash midway never leaves half a profile in the list."""
        actual = self._require(name)
        trash = self.root / _TRASH
        try:
            trash.mkdir(exist_ok=True)
            os.rename(self.root / actual, trash / f"{actual}-{uuid.uuid4().hex[:8]}")
            fsync_dir(self.root)
        except OSError as exc:
            raise ProfileError(
                f"Could not delete the profile '{actual}' ({exc.strerror or exc}). Nothing was changed; "
                "close any program using its files and try again.",
                self.root / actual,
            ) from exc
        self._clean_leftovers()

    def _clean_leftovers(self) -> None:
        """Empty the trash and drop half-built profiles left by a crash (both are hidden folders)."""
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.root):
                if entry.name.startswith(_TMP_PREFIX) and entry.is_dir():
                    shutil.rmtree(entry.path, ignore_errors=True)
        trash = self.root / _TRASH
        with contextlib.suppress(OSError):
            for entry in os.scandir(trash):
                shutil.rmtree(entry.path, ignore_errors=True)
            trash.rmdir()


def export_adapter(profile: Profile, dest_dir: Path | str) -> Path:
    """Copy the profile's active adapter to ``dest_dir`` as a standard PEFT adapter folder
    (adapter_model.safetensors, adapter_config.json, and any other file PEFT saved). The adapter is
    verified first, so a damaged one is never exported. Returns ``dest_dir``."""
    if profile.active_adapter_dir is None:
        raise ProfileError(f"The profile '{profile.name}' has no trained adapter yet. Train it first, then export.")
    _, rels = _check_adapter(profile.active_adapter_dir, profile.name, hash_files=True)
    dest = Path(dest_dir)
    try:
        for rel in rels:
            if str(rel) in _BOOKKEEPING:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_copy_file(profile.active_adapter_dir / rel, target)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ProfileError(
            f"Could not export the adapter of the profile '{profile.name}' to {dest} ({reason}).", dest
        ) from exc
    return dest
