"""Where an export may write: never over something that is there already (a folder with files in it, another
file, a device), unless the user chose to replace a file of their own."""

from __future__ import annotations

import stat
from pathlib import Path

from ditto_desk.core.errors import ProfileError


def new_folder(dest: Path, what: str) -> Path:
    """``dest`` as a folder to create, or an empty one; refused when anything is in it or it is not a folder."""
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise ProfileError(f"{dest} already exists and is not an empty folder. Choose a new folder for {what}.", dest)
    return dest


def new_file(file: Path, replace: bool = False) -> Path:
    """``file`` as a file to create; an existing one is replaced only when asked to and only if it is a plain file."""
    try:
        mode = file.lstat().st_mode
    except FileNotFoundError:
        return file
    except OSError as exc:
        raise ProfileError(f"Could not check {file} ({exc.strerror or exc}); choose another file name.", file) from exc
    if not replace or not stat.S_ISREG(mode):
        kind = "file" if stat.S_ISREG(mode) else "folder" if stat.S_ISDIR(mode) else "special file"
        raise ProfileError(f"{file} already exists (a {kind}); nothing was written. Choose a new file name.", file)
    return file
