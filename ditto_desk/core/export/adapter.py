"""A profile's style as a standard PEFT adapter folder: what plain ``peft`` loads on the same base model."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ditto_desk.core.atomic import atomic_copy_file
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.export.destination import new_folder
from ditto_desk.core.profiles.adapter_folder import BOOKKEEPING, check_adapter
from ditto_desk.core.profiles.profile import Profile


def export_adapter(profile: Profile, dest_dir: Path | str) -> Path:
    """Copy the profile's active adapter to ``dest_dir`` as a standard PEFT adapter folder
    (adapter_model.safetensors, adapter_config.json, and any other file PEFT saved). The adapter is
    verified first, so a damaged one is never exported. ``dest_dir`` must be new or empty; the files are written
    to a hidden folder beside it, then renamed, so it appears complete or not at all. Returns ``dest_dir``."""
    if profile.active_adapter_dir is None:
        raise ProfileError(f"The profile '{profile.name}' has no trained adapter yet. Train it first, then export.")
    _, rels = check_adapter(profile.active_adapter_dir, profile.name, hash_files=True)
    dest = new_folder(Path(dest_dir).expanduser(), "the adapter")
    tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        for rel in rels:
            if str(rel) in BOOKKEEPING:
                continue
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_copy_file(profile.active_adapter_dir / rel, target)
        if dest.is_dir():
            dest.rmdir()  # empty (checked above); rename can't replace a folder on Windows
        os.rename(tmp, dest)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)  # nothing half-written is left
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
            raise ProfileError(
                f"Could not export the adapter of the profile '{profile.name}' to {dest} ({reason}). Nothing was "
                "written.",
                dest,
            ) from exc
        raise
    return dest
