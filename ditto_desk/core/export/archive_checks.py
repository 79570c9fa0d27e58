"""The checks on a profile archive that came from elsewhere, made before anything reaches the profile store.

Such a file is untrusted: it may be damaged, or crafted to harm the computer that imports it. The zip's
directory is checked before a byte is unpacked, and refused when a name would land outside the profile, an
entry is a folder, a link or anything but a plain file, a name comes twice (even differing only in case), a
file is of a kind that can run code when loaded (only JSON and safetensors are accepted: a pickle can), a
member is encrypted or packed in a way not read here, or the sizes, count or packing ratios exceed what a
profile needs (a "zip bomb"). The manifest must match the directory exactly. Each member is then streamed
with a bounded read and checked against the manifest's size and SHA-256, and a safetensors file's header is
read (nothing is unpickled). A refusal says why, and that nothing was imported.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ditto_desk.core.errors import ArchiveError
from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS, MANIFEST
from ditto_desk.core.profiles.edits import EDITS_FILE
from ditto_desk.core.profiles.json_files import parse_json
from ditto_desk.core.profiles.profile import DEMOS_FILE, PROFILE_FILE, SETTINGS_FILE

ARCHIVE_MANIFEST = "ditto-desk-archive.json"
FORMAT_NAME = "ditto-desk-profile-archive"
VERSION = 1
ADAPTER_PREFIX = "adapter/"
TEXTS = (PROFILE_FILE, DEMOS_FILE, SETTINGS_FILE)
OPTIONAL = (EDITS_FILE,)  # archives from before edits travelled have none
UNLISTED = "it was changed or damaged after the export"
_MB = 1 << 20
_TAMPERED = "Ditto Desk never exports such a file, so it may have been tampered with"
_AGAIN = "Nothing was imported; export the profile again on the other computer and copy the new file."


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds checked on the zip's directory before anything is unpacked (tests pass small ones)."""

    weights_bytes: int = 2048 * _MB  # one .safetensors member
    json_bytes: int = 50 * _MB  # one JSON member: the texts are the largest
    total_bytes: int = 2200 * _MB
    members: int = 32
    ratio: float = 200.0  # unpacked / packed: texts pack ~5x, weights ~1.1x, deflate's most is ~1000x
    ratio_from_bytes: int = 1 * _MB  # a tiny member's ratio means nothing


def refused(file: Path, problem: str) -> ArchiveError:
    return ArchiveError(f"The profile archive {file} can't be imported: {problem}. {_AGAIN}", file)


def _member_problem(info: zipfile.ZipInfo, limits: ArchiveLimits) -> str | None:
    """What is wrong with one entry of the zip's directory, or None."""
    name, kind = info.filename, stat.S_IFMT(info.external_attr >> 16)
    parts = name.rstrip("/").split("/")
    if name != info.orig_filename or any(c in name for c in "\\:\0") or {"", ".", ".."} & set(parts):
        return f"it holds a file named {name!r} that would land outside the profile. {_TAMPERED}"
    if info.is_dir() or kind == stat.S_IFDIR:
        return f"it holds a folder ({name}) where only files belong. {_TAMPERED}"
    if kind not in (0, stat.S_IFREG):
        return f"it holds {'a link' if kind == stat.S_IFLNK else 'something'} ({name}) instead of a file. {_TAMPERED}"
    if not name.lower().endswith((".json", ".safetensors")):
        return (
            f"it holds {name}, a kind of file Ditto Desk never opens: only JSON and safetensors files are accepted, "
            "as other kinds (such as .bin, .pt or .pkl) can run programs when loaded"
        )
    rest = name.removeprefix(ADAPTER_PREFIX)
    if name not in (ARCHIVE_MANIFEST, *TEXTS, *OPTIONAL) and (
        rest in (name, MANIFEST) or len(parts) != 2 or rest.startswith(".")
    ):
        return f"it holds {name}, which is not part of a profile. {_TAMPERED}"
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"{name} is encrypted, or packed in a way Ditto Desk does not read"
    cap = limits.weights_bytes if name.endswith(".safetensors") else limits.json_bytes
    if info.file_size > cap:
        return f"{name} would take {_mb(info.file_size)} once unpacked, more than the {_mb(cap)} such a file may take"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_from_bytes and ratio > limits.ratio:
        return f'{name} unpacks to {ratio:.0f} times its packed size, as a "zip bomb" does. {_TAMPERED}'
    return None


def checked_directory(zf: zipfile.ZipFile, file: Path, limits: ArchiveLimits) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by name, each checked before anything is unpacked."""
    infos = zf.infolist()
    if len(infos) > limits.members:
        raise refused(file, f"it holds {len(infos)} files, far more than a profile has. {_TAMPERED}")
    found: dict[str, zipfile.ZipInfo] = {}
    keys: set[str] = set()
    for info in infos:
        problem = _member_problem(info, limits)
        key = unicodedata.normalize("NFC", info.filename).casefold()  # twice on a disk that ignores case
        if problem is None and key in keys:
            problem = f"it holds the file {info.filename} twice. {_TAMPERED}"
        if problem:
            raise refused(file, problem)
        keys.add(key)
        found[info.filename] = info
    total = sum(i.file_size for i in infos)
    if total > limits.total_bytes:
        raise refused(
            file,
            f"it would take {_mb(total)} once unpacked, more than the {_mb(limits.total_bytes)} a profile may take",
        )
    missing = [m for m in (ARCHIVE_MANIFEST, *TEXTS) if m not in found]
    if any(m.startswith(ADAPTER_PREFIX) for m in found):
        missing += [ADAPTER_PREFIX + m for m in (ADAPTER_WEIGHTS, ADAPTER_CONFIG) if ADAPTER_PREFIX + m not in found]
    if missing:
        raise refused(file, f"it is incomplete ({', '.join(missing)} missing), or not a Ditto Desk profile archive")
    return found


def _mb(n: int) -> str:
    return f"{n / 1024:,.1f} KB" if n < _MB else f"{n / _MB:,.1f} MB" if n < 1024 * _MB else f"{n / (1 << 30):,.1f} GB"


def read_manifest(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], file: Path) -> dict[str, Any]:
    info = infos[ARCHIVE_MANIFEST]
    with zf.open(info) as src:
        raw = src.read(info.file_size + 1)  # bounded by the declared size, itself capped
    try:
        manifest = parse_json(raw) if len(raw) <= info.file_size else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise refused(file, f"its list of contents ({ARCHIVE_MANIFEST}) is damaged, or it is not a profile archive")
    version, files = manifest.get("version"), manifest.get("files")
    if isinstance(version, int) and version > VERSION:
        raise ArchiveError(
            f"The profile archive {file} was made by a newer version of Ditto Desk (archive version {version}). "
            "Update Ditto Desk, then import it again.",
            file,
        )
    if (
        version != VERSION
        or not isinstance(manifest.get("profile"), str)
        or not isinstance(manifest.get("base_model"), (str, type(None)))
        or not isinstance(files, dict)
        or set(files) != set(infos) - {ARCHIVE_MANIFEST}
        or not all(isinstance(e, dict) and e.get("size") == infos[n].file_size for n, e in files.items())
    ):
        raise refused(file, f"its files do not match its list of contents ({UNLISTED})")
    return manifest


def extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, expected: dict[str, Any], file: Path
) -> None:
    """Stream one member into the new file ``target`` ("x" follows no link), never past its declared size."""
    digest, size = hashlib.sha256(), 0
    with zf.open(info) as src, open(target, "xb") as out:
        while chunk := src.read(1 << 20):
            size += len(chunk)
            if size > info.file_size:  # zipfile stops there itself; the bound does not rest on that alone
                raise refused(file, f'{info.filename} unpacks to more than it declares, as a "zip bomb" does')
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != expected["size"] or digest.hexdigest() != expected.get("sha256"):
        raise refused(file, f"{info.filename} does not match the archive's list of contents ({UNLISTED})")


def check_safetensors(path: Path, member: str, file: Path) -> None:
    from safetensors import safe_open  # reads and checks the header only; safetensors never runs code

    try:
        with safe_open(str(path), framework="numpy") as weights:
            count = len(list(weights.keys()))
    except Exception as exc:  # SafetensorError, or anything else: this is no safetensors file
        raise refused(file, f"{member} is not a valid safetensors file ({exc})") from exc
    if not count:
        raise refused(file, f"{member} holds no weights")
