"""One file that carries a profile to another computer: its texts, settings and trained style.

A zip (deflated) holding ``ditto-desk-archive.json`` (format, version, profile name, base model, and the
size and SHA-256 of every other member), ``profile.json``, ``demonstrations.json``, ``settings.json``, the
corrected drafts (``edits.json``) if any and, when trained, ``adapter/`` (``adapter_model.safetensors``,
``adapter_config.json``, ``training-log.json``).

Importing trusts nothing in the file: archive_checks.py checks the zip's directory before a byte is
unpacked, then each member as it is streamed with a bounded read into a hidden folder inside the profiles
root (where the store stages its other writes, and clears what a crash leaves). The JSON is then parsed, the
safetensors headers read (nothing is unpickled), and the profile loaded as the store would, before one rename
puts it in place. Any refusal removes that folder: the store is as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ditto_desk.core.atomic import atomic_write_json, fsync_dir
from ditto_desk.core.errors import ArchiveError, ProfileError
from ditto_desk.core.export.archive_checks import (
    ADAPTER_PREFIX,
    ARCHIVE_MANIFEST,
    FORMAT_NAME,
    TEXTS,
    UNLISTED,
    VERSION,
    ArchiveLimits,
    check_safetensors,
    checked_directory,
    extract_member,
    read_manifest,
    refused,
)
from ditto_desk.core.export.destination import new_file
from ditto_desk.core.models.settings import BUNDLED_NAME
from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTERS_DIR, MANIFEST, TRAINING_LOG, seal
from ditto_desk.core.profiles.edits import EDITS_FILE, edits_json, load_edits
from ditto_desk.core.profiles.json_files import parse_json, read_json
from ditto_desk.core.profiles.profile import (
    DEMOS_FILE,
    FORMAT,
    PROFILE_FILE,
    SETTINGS_FILE,
    TMP_PREFIX,
    Profile,
    new_stamp,
    now_iso,
)
from ditto_desk.core.profiles.store import MAX_NAME_LENGTH, ProfileStore, validate_profile_name
from ditto_desk.core.texts.demonstration import Demonstration

_TAUGHT_BY_EXPORTED = "the exported style"  # an edit's taught_in inside an archive: the style travelling with it
_EMPTY = {DEMOS_FILE: b"[]\n", SETTINGS_FILE: b"{}\n"}  # a missing file means "none yet", as on load
_DEFAULT_LIMITS = ArchiveLimits()


# -- export ----------------------------------------------------------------------------------------------------


def export_archive(profile: Profile, file: Path | str, replace: bool = False) -> Path:
    """Write ``profile`` (texts, settings, active adapter) as one zip at ``file``, atomically: a temporary
    file beside it is renamed over it once complete, and removed on any failure. An existing ``file`` is refused,
    unless ``replace`` (the user confirmed it) and it is a plain file. Returns ``file``."""
    file = new_file(Path(file), replace)
    fresh = Profile.load(profile.path)  # every file checked, the adapter hashed: nothing damaged leaves
    members: dict[str, Path | bytes] = {n: fresh.path / n for n in TEXTS}
    members |= {n: data for n, data in _EMPTY.items() if not (fresh.path / n).exists()}
    members |= {EDITS_FILE: _edits_for_archive(fresh)} if fresh.edits() else {}
    hashes: dict[str, str] = {}
    base_model = None
    if fresh.active_adapter_dir is not None:
        adapter = fresh.active_adapter_dir
        for rel, entry in sorted(read_json(adapter / MANIFEST, fresh.name, "Retrain it.")["files"].items()):
            if "/" not in rel and rel.endswith((".json", ".safetensors")) and rel != MANIFEST:  # as import takes
                members[ADAPTER_PREFIX + rel] = adapter / rel
                hashes[ADAPTER_PREFIX + rel] = entry["sha256"]
        config = read_json(adapter / ADAPTER_CONFIG, fresh.name, "Retrain it.")
        base_model = (config.get("base_model_name_or_path") if isinstance(config, dict) else None) or None
    tmp: str | None = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
                files = {name: _add_member(zf, name, source) for name, source in members.items()}
                if any(files[name]["sha256"] != sha for name, sha in hashes.items()):  # a commit just replaced it
                    raise ArchiveError(f"The style of '{fresh.name}' changed while exporting it. Export it again.")
                manifest = {"format": FORMAT_NAME, "version": VERSION, "profile": fresh.name}
                manifest |= {"base_model": base_model, "created": now_iso(), "files": files}
                _add_member(zf, ARCHIVE_MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, file)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ArchiveError(
                f"Could not export the profile '{fresh.name}' to {file} ({exc.strerror or exc}). Nothing was "
                "written; check that the folder is writable and the disk has free space.",
                file,
            ) from exc
        raise
    fsync_dir(file.parent)
    return file


def _edits_for_archive(profile: Profile) -> bytes:
    """The corrected drafts, each marked taught or waiting as it is for the style exported: the versions that
    taught them stay behind, so a taught edit names the archive's own style (imported under a new name)."""
    current = profile.active_adapter_dir.name if profile.active_adapter_dir is not None else None
    edits = [replace(e, taught_in=None if e.waiting(current) else _TAUGHT_BY_EXPORTED) for e in profile.edits()]
    return json.dumps(edits_json(edits), indent=2, ensure_ascii=False).encode()


def _add_member(zf: zipfile.ZipFile, name: str, source: Path | bytes) -> dict[str, Any]:
    """Stream one member in; the size and SHA-256 of what was written, for the manifest."""
    info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16  # a plain file, whatever this platform says
    info.file_size = len(source) if isinstance(source, bytes) else source.stat().st_size  # zip64 when needed
    digest, size = hashlib.sha256(), 0
    with zf.open(info, "w") as out, contextlib.ExitStack() as stack:
        if isinstance(source, Path):
            src = stack.enter_context(open(source, "rb"))
            chunks: Iterable[bytes] = iter(lambda: src.read(1 << 20), b"")
        else:
            chunks = [source]
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


# -- import ----------------------------------------------------------------------------------------------------


def import_archive(
    store: ProfileStore,
    file: Path | str,
    name: str | None = None,
    *,
    expected_base: str | None = None,
    limits: ArchiveLimits = _DEFAULT_LIMITS,
) -> Profile:
    """Create a new profile from the archive ``file``, named as in it or ``name``; an existing profile is
    never replaced. ``expected_base``, the name of the model in use (``LoadedModel.name``), refuses a style
    learned on another model. Raises :class:`ArchiveError` saying why; the store is then as it was."""
    file = Path(file)
    try:
        zf = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        raise refused(file, "it is not a Ditto Desk profile archive, or it is damaged (cut short?)") from None
    except OSError as exc:
        raise ArchiveError(f"Could not open {file} ({exc.strerror or exc}). Check that you may read it.", file) from exc
    with zf:
        try:
            infos = checked_directory(zf, file, limits)
            manifest = read_manifest(zf, infos, file)
            _check_base(manifest["base_model"], expected_base, file)
            target = _free_name(store, manifest["profile"] if name is None else name, from_archive=name is None)
            return _unpack(store, zf, infos, manifest, target, file)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:  # bytes that don't unpack, a bad CRC
            raise refused(file, f"it is damaged ({exc})") from exc


def _check_base(base: str | None, expected: str | None, file: Path) -> None:
    """Refuse a style learned on another model, as check_base_model does before writing with one."""
    if base is None or expected is None or base == expected:
        return
    choice = f"the bundled model ({base})" if base == BUNDLED_NAME else base
    raise ArchiveError(
        f"The style in the profile archive {file} was learned on the model {base}, but the model in use now is "
        f"{expected}, and a style only works on the model it was learned on. Nothing was imported. To import "
        f"it, choose {choice} as the model (in Settings, or with --model on the command line), then import the "
        "archive again.",
        file,
    )


def _taken(store: ProfileStore) -> set[str]:
    """Every name in the profiles root, compared as the store compares names (ignoring case)."""
    store.list()  # a root that can't be read is reported as the store reports it
    with contextlib.suppress(FileNotFoundError):
        return {unicodedata.normalize("NFC", n).casefold() for n in os.listdir(store.root)}
    return set()


def _free_name(store: ProfileStore, wanted: str, from_archive: bool) -> str:
    try:
        name, taken = validate_profile_name(wanted), _taken(store)
    except ProfileError as exc:
        if not from_archive:
            raise
        raise ArchiveError(f"The name of the profile in this archive can't be used here: {exc}") from exc
    if name.casefold() not in taken:
        return name
    other = name
    for suffix in (f" ({i})" for i in range(2, 1000)):
        with contextlib.suppress(ProfileError):
            other = validate_profile_name(name[: MAX_NAME_LENGTH - len(suffix)].rstrip(" .") + suffix)
            if other.casefold() not in taken:
                break
    raise ArchiveError(
        f"A profile named '{name}' already exists, and importing never replaces a profile. Nothing was imported. "
        f"Import it under another name, such as '{other}', or rename the existing profile first."
    )


def _unpack(
    store: ProfileStore,
    zf: zipfile.ZipFile,
    infos: dict[str, zipfile.ZipInfo],
    manifest: dict[str, Any],
    name: str,
    file: Path,
) -> Profile:
    """Unpack into a hidden folder inside the root, check it, then rename it into place: all or nothing."""
    root = store.root
    made_root = not root.exists()
    staging = root / f"{TMP_PREFIX}{uuid.uuid4().hex}"
    stamp = new_stamp()
    adapter = staging / ADAPTERS_DIR / stamp
    try:
        try:
            adapter.mkdir(parents=True)
            for member, info in infos.items():
                rel = member.removeprefix(ADAPTER_PREFIX)
                if member != ARCHIVE_MANIFEST:
                    extract_member(
                        zf, info, (staging if rel == member else adapter) / rel, manifest["files"][member], file
                    )
            created, log = _check_unpacked(staging, adapter, manifest["base_model"], file)
            _adopt_edits(staging, stamp if log is not None else None, file)
            if log is None:
                adapter.rmdir()  # untrained: an empty adapters/, as create() makes
            else:
                seal(adapter, log)  # the adapter's own manifest, as a commit writes it
            meta = {
                "format": FORMAT,
                "name": name,
                "created": created,
                "active_adapter": None if log is None else stamp,
            }
            atomic_write_json(staging / PROFILE_FILE, meta)
            fsync_dir(staging)
            try:
                Profile.load(staging)  # the store's own checks, on exactly what is renamed into place
            except ProfileError as exc:
                raise refused(file, f"the profile in it is damaged ({exc})") from exc
            if name.casefold() in _taken(store):
                raise ArchiveError(f"A profile named '{name}' was just made elsewhere. Nothing was imported.")
            os.rename(staging, root / name)
            fsync_dir(root)
        except OSError as exc:
            raise ArchiveError(
                f"Could not import the profile into {root} ({exc.strerror or exc}). Nothing was imported; check "
                "that the disk has free space and the folder is writable, then try again.",
                root,
            ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made_root:
            with contextlib.suppress(OSError):
                root.rmdir()
        raise
    return store.load(name)


def _adopt_edits(staging: Path, version: str | None, file: Path) -> None:
    """Check the archive's edits, and make those its style was taught name the version it is imported as."""
    if not (staging / EDITS_FILE).exists():
        return
    try:
        edits = load_edits(staging / EDITS_FILE, staging.name)
    except ProfileError as exc:
        raise refused(file, f"its corrected drafts are damaged ({exc})") from exc
    taught = [replace(e, taught_in=version if e.taught_in is not None and version else None) for e in edits]
    atomic_write_json(staging / EDITS_FILE, edits_json(taught))


def _check_unpacked(staging: Path, adapter: Path, base: str | None, file: Path) -> tuple[str, list[Any] | None]:
    """Parse every JSON file, read every safetensors header (no tensor is loaded). Returns when the profile
    was created, and its training log (None when untrained)."""
    parsed: dict[str, Any] = {}
    for path in sorted([*staging.glob("*.json"), *adapter.glob("*")]):
        member = path.name if path.parent == staging else ADAPTER_PREFIX + path.name
        if path.suffix == ".safetensors":
            check_safetensors(path, member, file)
            continue
        try:
            parsed[member] = parse_json(path.read_bytes())
        except ValueError as exc:
            raise refused(file, f"{member} is not valid JSON ({exc})") from exc
    meta, demos, settings = (parsed[m] for m in TEXTS)
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if isinstance(fmt, int) and fmt > FORMAT:
        raise ArchiveError(
            f"The profile in {file} was saved by a newer version of Ditto Desk (format {fmt}). Update Ditto Desk, "
            "then import it again.",
            file,
        )
    try:
        ok = fmt == FORMAT and isinstance(settings, dict) and isinstance(demos, list)
        ok = ok and all(Demonstration.from_json(d) for d in demos)
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise refused(file, "the profile in it is damaged (its description, texts or settings can't be read)")
    created = meta.get("created") if isinstance(meta.get("created"), str) else now_iso()
    if ADAPTER_PREFIX + ADAPTER_CONFIG not in parsed:
        return created, None
    config, log = parsed[ADAPTER_PREFIX + ADAPTER_CONFIG], parsed.get(ADAPTER_PREFIX + TRAINING_LOG, [])
    named = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    if not isinstance(config, dict) or not isinstance(log, list) or (named or None) != base:
        raise refused(file, f"its style does not match its list of contents ({UNLISTED})")
    return created, log
