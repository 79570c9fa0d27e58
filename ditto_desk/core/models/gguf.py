"""A GGUF file as a model: the bundled one, or one a user brings from LM Studio, Ollama or llama.cpp.

transformers reads GGUF but can neither quantize it with bitsandbytes nor train it as it is, so each GGUF is
converted once into an ordinary safetensors checkpoint in the cache and then loaded like any model folder.
The header is checked first, so a file the app cannot use is refused in a second, not after minutes of work.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ditto_desk.core.errors import ModelError
from ditto_desk.core.models.settings import model_choice_problem
from ditto_desk.core.places import cache_root
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressEvent, ignore_progress

MARKER = "ditto-desk-converted.json"  # written last: lists each file of a complete conversion with its size
# Keys of transformers' GGUF tables that are not architectures, or not of models that write text.
_NOT_CHAT_MODELS = {"general", "tokenizer", "t5", "umt5", "t5encoder"}
# llama.cpp's names for architectures that transformers lists under another spelling.
_ALIASES = {"qwen2moe": "qwen2_moe", "qwen3moe": "qwen3_moe", "gpt-oss": "gpt_oss", "minimax-m2": "minimax_m2"}
BYTES_PER_PARAMETER = 2  # the checkpoint is written in bf16
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}  # GGUFValueType
# What to do, said to a user about their own file
_DAMAGED_FIX = "Download it again, or pick another file."
_UNREADABLE_FIX = "transformers could not read it: pick another GGUF file (another model, or another quantization)."


@dataclass(frozen=True)
class GgufInfo:
    architecture: str
    chat_template: bool
    parameters: int
    data_end: int  # where the last tensor ends: past the file's end when the file was cut short


def supported_architectures() -> list[str]:
    """The GGUF architectures transformers converts into a text model: its legacy table and its newer one."""
    from transformers.integrations.gguf import GGUF_ARCHS
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    return sorted((set(GGUF_SUPPORTED_ARCHITECTURES) | set(GGUF_ARCHS)) - _NOT_CHAT_MODELS)


def inspect_gguf(gguf: Path, fix: str = _DAMAGED_FIX) -> GgufInfo:
    """Read the header alone and refuse a file this app cannot use; ``fix`` says what to do if it is damaged."""
    problem = model_choice_problem(str(gguf))  # missing, unreadable, not GGUF: the Settings dialog's own check
    if problem:
        raise ModelError(problem)
    try:
        info = read_gguf_header(gguf)
    except (OSError, EOFError, ValueError, KeyError, struct.error, MemoryError, OverflowError):  # garbled
        info = None
    if info is None or info.data_end > gguf.stat().st_size:
        raise ModelError(f"{gguf.name} is damaged or incomplete (perhaps an unfinished download or copy). {fix}")
    supported = supported_architectures()
    if _ALIASES.get(info.architecture, info.architecture) not in supported:
        raise ModelError(
            f"{gguf.name} is a model of the “{info.architecture}” kind, which ditto-desk cannot convert. "
            f"Pick a GGUF file of one of these kinds: {', '.join(supported)}."
        )
    if not info.chat_template:
        raise ModelError(
            f"{gguf.name} has no chat template: it is a base model, and ditto-desk needs a chat model. Pick the "
            "chat version of this model (its name usually has Instruct, Chat or -it in it)."
        )
    return info


def read_gguf_header(gguf: Path) -> GgufInfo:
    """The header of a GGUF file, walked with the gguf package's type tables: a fraction of a second where
    gguf.GGUFReader, which maps every entry of the vocabulary, takes 2 s (SmolLM2) to 10 s (Gemma 3)."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

    with gguf.open("rb", buffering=1 << 20) as file:

        def take(fmt: str) -> tuple[Any, ...]:
            size = struct.calcsize("<" + fmt)
            data = file.read(size)
            if len(data) < size:
                raise EOFError
            return struct.unpack("<" + fmt, data)

        def text() -> str:
            (length,) = take("Q")
            raw: bytes = take(f"{length}s")[0]
            return raw.decode("utf-8", "replace")

        def value(kind: int) -> Any:
            if kind == GGUFValueType.STRING:
                return text()
            if kind != GGUFValueType.ARRAY:
                return take(_SCALARS[kind])[0]
            item, count = take("IQ")
            if item in _SCALARS:  # scores, token types: skipped whole
                file.seek(count * struct.calcsize("<" + _SCALARS[item]), os.SEEK_CUR)
            for _ in range(0 if item in _SCALARS else count):
                value(item)
            return None

        _magic, _version, tensors, entries = take("4sIQQ")
        metadata = {}
        for _ in range(entries):
            key = text()
            metadata[key] = value(take("I")[0])
        parameters = data_end = 0
        for _ in range(tensors):
            text()
            dims = take(f"{take('I')[0]}Q")
            kind, offset = take("IQ")
            elements = math.prod(dims)
            block, size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
            parameters, data_end = parameters + elements, max(data_end, offset + elements // block * size)
        alignment = metadata.get("general.alignment") or 32
        data_start = -(-file.tell() // alignment) * alignment
    architecture = metadata.get("general.architecture")
    if not isinstance(architecture, str):
        raise ValueError("no architecture")
    return GgufInfo(architecture, bool(metadata.get("tokenizer.chat_template")), parameters, data_start + data_end)


def gguf_cache_dir(gguf: Path) -> Path:
    """The cache folder of a user's GGUF file, keyed by its name, size and modification time.

    Cheap on every load (hashing gigabytes is not), kept when the file is moved, and a file replaced in place
    (a new download or quantization of the same name) gets a conversion of its own.
    """
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_root() / "models" / "gguf" / f"{gguf.stem[:80]}-{key}"


def checkpoint_ready(folder: Path) -> bool:
    """Whether ``folder`` holds a complete conversion: its marker, and every file at the size it lists."""
    try:
        expected = json.loads((folder / MARKER).read_text())["files"]
        return all((folder / name).stat().st_size == size for name, size in expected.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def converted_checkpoint(
    gguf: Path,
    folder: Path | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    *,
    label: str = "",
    fix: str | None = None,
) -> Path:
    """The safetensors checkpoint of ``gguf`` in ``folder`` (by default :func:`gguf_cache_dir`), converted once.

    A damaged or half-written cache is detected by its marker and converted again; two conversions at once
    each write into a private scratch folder, and the first to finish is kept. ``label`` names the model in
    progress and errors; ``fix`` replaces the advice in errors (the bundled model's is to reinstall it).
    """
    folder = folder or gguf_cache_dir(gguf)
    if checkpoint_ready(folder):
        return folder
    label = label or gguf.name
    needed = inspect_gguf(gguf, fix or _DAMAGED_FIX).parameters * BYTES_PER_PARAMETER
    fix = fix or _UNREADABLE_FIX
    progress(ProgressEvent(Phase.CONVERT, f"Reading {label} (once)…", 1, 3, fraction=0.1))
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder.parent).free
        if free < needed * 1.1:
            raise OSError(errno.ENOSPC, f"only {free / 1e9:.1f} GB free")
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as exc:
        raise _no_room(folder, needed, exc) from exc
    try:
        try:
            model, tokenizer = _read_gguf(gguf)
        except Exception as exc:
            raise ModelError(f"Could not convert {label} ({exc}). {fix}") from exc
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(ProgressEvent(Phase.CONVERT, "Writing the model cache…", 2, 3, fraction=0.7))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
            (tmp / MARKER).write_text(json.dumps({"source": str(gguf), "files": files}))
            _publish(tmp, folder)
        except OSError as exc:
            raise _no_room(folder, needed, exc) from exc
        except Exception as exc:
            raise ModelError(f"Could not convert {label} ({exc}). {fix}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when it became the cache
    progress(ProgressEvent(Phase.CONVERT, "Model ready", 3, 3, fraction=1.0))
    return folder


def _read_gguf(gguf: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # dequantize: plain dense weights even where transformers could keep GGUF blocks (they can't be saved)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16, quantization_config=GgufConfig(dequantize=True)
        )
    # A GGUF-loaded model refuses save_pretrained until it forgets it was quantized.
    model.hf_quantizer = None  # type: ignore[assignment]  # transformers types it as a module or tensor
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model, tokenizer


def _publish(tmp: Path, folder: Path) -> None:
    """Make the finished scratch folder the cache, unless another conversion got there first.

    Under a lock held for a moment: else one conversion could remove another's just-finished folder.
    """
    from filelock import FileLock

    with FileLock(folder.parent / f".{folder.name}.lock"):
        if checkpoint_ready(folder):
            return
        shutil.rmtree(folder, ignore_errors=True)  # a damaged one
        os.replace(tmp, folder)


def _no_room(folder: Path, needed: int, exc: OSError) -> ModelError:
    what = f"Could not write the converted model into {folder.parent} ({exc.strerror or exc})."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ModelError(f"{what} Check that this folder may be written to, or set DITTO_DESK_CACHE to another.")
    return ModelError(f"{what} It needs about {needed / 1e9:.1f} GB there: free some disk space and try again.")
