"""Profiles on disk: one folder per person, holding their demonstrations and trained adapter.

Layout of ``<root>/<name>/``::

    profile.json          {"format": 1, "name": ..., "created": iso, "active_adapter": null | "<stamp>"}
    demonstrations.json   [Demonstration.to_json(), ...]
    settings.json         {}  (kept for settings a profile may carry; none yet: checked on load, carried by archives)
    adapters/<stamp>/     the trained adapter and its manifest (adapter_folder.py)

and ``<root>/.locks/`` holds one lock file per profile (lock.py). Only JSON and safetensors are
ever read back; nothing is unpickled. Every write is atomic, and a new adapter becomes active only when
profile.json is atomically replaced to point at it (the single commit point, profile.py), so a
crash at any moment leaves either the old profile or the new one. The folder name is the profile's
name; the copy inside profile.json is informational.

This module holds the store: naming, listing, creating, renaming and deleting profiles.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import unicodedata
import uuid
from pathlib import Path

from ditto_desk.core.atomic import atomic_write_json, fsync_dir
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.places import default_profiles_root
from ditto_desk.core.profiles.adapter_folder import (
    ADAPTERS_DIR,
)
from ditto_desk.core.profiles.json_files import parse_json
from ditto_desk.core.profiles.lock import ProfileLock
from ditto_desk.core.profiles.profile import (
    DEMOS_FILE,
    FORMAT,
    PROFILE_FILE,
    SETTINGS_FILE,
    TMP_PREFIX,
    Profile,
    now_iso,
)

MAX_NAME_LENGTH = 80
_TRASH = ".trash"
# Refused everywhere (not only on Windows) so a profile folder can be copied to any machine.
_FORBIDDEN_CHARS = '<>:"/\\|?*'
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
# delete and rename wait this long for a commit elsewhere to finish before saying the profile is busy.
_BUSY_WAIT_S = 5.0


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
    if any(_hidden(name, i) for i in range(len(name))):
        raise ProfileError(
            "A profile name can't contain invisible characters (such as a zero-width space or a right-to-left "
            "override, which make a name show as something it is not). Choose another name."
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


def _hidden(name: str, i: int) -> bool:
    """Whether ``name[i]`` is a character no one sees: a format character (bidi controls, zero-width spaces) or a
    lone surrogate. The zero-width (non-)joiner is allowed between letters, where Persian and emoji use it."""
    c = name[i]
    category = unicodedata.category(c)
    if category == "Cs":
        return True
    if category != "Cf":
        return False
    joins = c in "\u200c\u200d" and 0 < i < len(name) - 1
    return not (joins and not name[i - 1].isspace() and not name[i + 1].isspace())


def _name_key(name: str) -> str:
    # Profile names are unique ignoring case on every platform, so a profile folder moved from Linux
    # to a case-insensitive disk (macOS, Windows) never collides with another.
    return unicodedata.normalize("NFC", name.strip()).casefold()


class ProfileStore:
    """All profiles under one root folder."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_profiles_root()

    def __repr__(self) -> str:
        return f"ProfileStore({str(self.root)!r})"

    def _entries(self) -> list[os.DirEntry[str]]:
        """The root's entries; none while it does not exist yet. A root that exists but can't be read is
        a ProfileError: "no profiles" would be a lie, and creating one there would fail anyway."""
        where = "(--profiles-dir, or the DITTO_DESK_HOME environment variable)"
        try:
            return list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        except NotADirectoryError as exc:
            raise ProfileError(
                f"The profiles folder {self.root} can't be used: it, or a folder above it, is a file. Choose "
                f"another folder for your profiles {where}, or move that file away.",
                self.root,
            ) from exc
        except OSError as exc:
            raise ProfileError(
                f"Could not read the profiles folder {self.root} ({exc.strerror or exc}). Check that you may "
                f"read and write it (its permissions), or choose another folder for your profiles {where}.",
                self.root,
            ) from exc

    def list(self) -> list[str]:
        """Names of the folders that look like profiles (have a profile.json), sorted ignoring case."""
        names = [
            e.name
            for e in self._entries()
            if not e.name.startswith(".") and e.is_dir() and os.path.isfile(os.path.join(e.path, PROFILE_FILE))
        ]
        return sorted(names, key=lambda n: (_name_key(n), n))

    def _resolve(self, name: object, *, any_folder: bool = False) -> str | None:
        """The folder name of the profile called ``name`` (matched ignoring case), or None.
        ``any_folder`` also matches folders without a profile.json, so loading one reports the damage
        instead of "no such profile", and deleting it works."""
        if not isinstance(name, str):
            return None
        if any_folder:
            names = sorted(e.name for e in self._entries() if not e.name.startswith(".") and e.is_dir())
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
        for entry in self._entries():
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
        return Profile.load(self.root / self._require(name, any_folder=True), verify=verify)

    def create(self, name: str) -> Profile:
        """Create an empty profile. It is built in a hidden folder and renamed into place, so it appears
        complete or not at all."""
        name = validate_profile_name(name)
        self._check_free(name)
        self._clean_leftovers()
        staging = self.root / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        meta = {"format": FORMAT, "name": name, "created": now_iso(), "active_adapter": None}
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

    def rename(self, old: str, new: str) -> None:
        """Rename a profile (a single folder rename; changing only the case works too). Refused while the
        profile is being trained elsewhere: that run would save into a folder that is gone."""
        old_name = self._require(old)
        new_name = validate_profile_name(new)
        if new_name == old_name:
            return
        self._check_free(new_name, ignore=old_name)
        with ProfileLock(self.root / old_name).held(wait=_BUSY_WAIT_S):
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
            meta = parse_json(path.read_bytes())
            if isinstance(meta, dict):
                atomic_write_json(path, {**meta, "name": new_name})

    def delete(self, name: str) -> None:
        """Delete a profile: one rename moves it out of sight into a trash folder, which is then emptied,
        so a crash midway never leaves half a profile in the list. A damaged profile folder (one without
        a usable profile.json) can be deleted too, as the damage messages advise. Refused while the
        profile is being trained elsewhere."""
        actual = self._require(name, any_folder=True)
        trash = self.root / _TRASH
        with ProfileLock(self.root / actual).held(wait=_BUSY_WAIT_S):
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
                if entry.name.startswith(TMP_PREFIX) and entry.is_dir():
                    shutil.rmtree(entry.path, ignore_errors=True)
        trash = self.root / _TRASH
        with contextlib.suppress(OSError):
            for entry in os.scandir(trash):
                shutil.rmtree(entry.path, ignore_errors=True)
            trash.rmdir()
