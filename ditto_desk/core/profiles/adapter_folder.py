"""A profile's adapter folder, ``adapters/<stamp>/``: the PEFT files, our training log and a manifest.

    adapter_model.safetensors, adapter_config.json (PEFT), training-log.json,
    reference_model.safetensors (DITTO's frozen SFT reference, the same LoRA shape: what a taught update
    trains against), manifest.json {"files": {name: {"size", "sha256"}}, "created": iso}

The manifest is written last (sealing the folder) and checked on every load, so a folder that changed
or was left incomplete is reported as damaged instead of being loaded into a model.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from ditto_desk.core.atomic import atomic_write_json, fsync_dir, fsync_file
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.models.settings import BUNDLED
from ditto_desk.core.profiles.json_files import parse_json, read_json
from ditto_desk.core.profiles.record import TrainingRecord

ADAPTERS_DIR = "adapters"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
TRAINING_LOG = "training-log.json"
MANIFEST = "manifest.json"
REFERENCE_WEIGHTS = "reference_model.safetensors"

# Our own files inside an adapter folder; everything else there is the PEFT adapter proper.
BOOKKEEPING = {TRAINING_LOG, MANIFEST, REFERENCE_WEIGHTS}
_HASH_CHUNK = 1 << 20


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


def _adapter_damaged(profile: str, folder: Path, problem: str) -> ProfileError:
    return ProfileError(
        f"The trained adapter of the profile '{profile}' is damaged ({problem}). "
        f"Retrain the profile, or restore {folder} from a backup.",
        folder,
    )


def check_adapter(folder: Path, profile: str, *, hash_files: bool) -> tuple[list[dict[str, Any]], list[PurePosixPath]]:
    """Check an adapter folder against its manifest. Returns (training log, manifest file paths)."""
    if not folder.is_dir():
        raise ProfileError(
            f"The trained adapter of the profile '{profile}' is missing (folder "
            f"{ADAPTERS_DIR}/{folder.name} not found). Retrain the profile, or restore that folder "
            "from a backup.",
            folder,
        )
    advice = f"Retrain the profile, or restore {folder} from a backup."
    manifest = read_json(folder / MANIFEST, profile, advice)
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
    log = read_json(folder / TRAINING_LOG, profile, advice)
    if not isinstance(log, list):
        raise _adapter_damaged(profile, folder, f"file {TRAINING_LOG} does not hold a list")
    return log, rels


def _is_safetensors(path: Path) -> bool:
    """Cheap sanity check that a file is safetensors: 8-byte header length, then a JSON object."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if size < 8 or n > size - 8 or n > 100_000_000:
                return False
            return isinstance(parse_json(f.read(n)), dict)
    except (OSError, ValueError):
        return False


def check_written(folder: Path, profile: str) -> None:
    """Refuse to commit an adapter that ``write_files`` left incomplete or unreadable."""
    for required in (ADAPTER_WEIGHTS, ADAPTER_CONFIG):
        if not (folder / required).is_file():
            raise ProfileError(
                f"The trained adapter was not saved completely ({required} is missing). The profile "
                f"'{profile}' was not changed; try training again.",
                folder,
            )
    if not _is_safetensors(folder / ADAPTER_WEIGHTS):
        raise ProfileError(
            f"The trained adapter was not saved correctly ({ADAPTER_WEIGHTS} is not a valid "
            f"safetensors file). The profile '{profile}' was not changed; try training again.",
            folder,
        )
    try:
        config = parse_json((folder / ADAPTER_CONFIG).read_bytes())
    except (OSError, ValueError):
        config = None
    if not isinstance(config, dict):
        raise ProfileError(
            f"The trained adapter was not saved correctly ({ADAPTER_CONFIG} is not a JSON object). "
            f"The profile '{profile}' was not changed; try training again.",
            folder,
        )


def seal(folder: Path, log: list[dict[str, Any]]) -> None:
    """Write the training log and manifest, and make every file and folder durable."""
    atomic_write_json(folder / TRAINING_LOG, log)
    files: dict[str, dict[str, Any]] = {}
    for path in _files_under(folder):
        rel = path.relative_to(folder).as_posix()
        if rel == MANIFEST:
            continue
        fsync_file(path)  # write_files (save_pretrained) need not have fsynced its files
        files[rel] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    atomic_write_json(folder / MANIFEST, {"files": files, "created": created})
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        fsync_dir(sub)
    fsync_dir(folder)


def _read_optional(path: Path) -> Any:
    try:
        return parse_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def check_base_model(folder: Path, model_name: str) -> None:
    """Refuse an adapter learned on another base model than ``model_name`` (a LoRA's shapes and meaning
    belong to one model; loading it on another fails with a size mismatch, or silently writes nonsense).

    The base model is the one adapter_config.json names (``base_model_name_or_path``, the loaded model's
    name when it was trained); the training record says how it was chosen (``bundled``, a folder or
    a hub id), which is what the user has to pick again. An adapter that names no model is let through.
    """
    config = _read_optional(folder / ADAPTER_CONFIG)
    learned_on = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    if not isinstance(learned_on, str) or not learned_on or learned_on == model_name:
        return
    log = _read_optional(folder / TRAINING_LOG)
    record = TrainingRecord.of_log(log) if isinstance(log, list) else None
    chosen = record.model.model if record is not None and record.model is not None else None
    if chosen == BUNDLED:
        choice = f"the bundled model ({learned_on})"
    elif isinstance(chosen, str) and chosen:
        choice = chosen
    else:
        choice = learned_on
    raise ProfileError(
        f"This style was learned on the model {learned_on}, but the model in use now is {model_name}, and a "
        f"style only works on the model it was learned on. To write in this style, choose {choice} again as "
        "the model (in Settings, or with --model on the command line); or train the profile again on "
        f"{model_name}.",
        folder,
    )
