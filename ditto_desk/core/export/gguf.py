"""A profile's LoRA adapter as a GGUF file that llama.cpp loads (``--lora``) on the same base model.

ditto-desk does not write GGUF itself: llama.cpp's own ``convert_lora_to_gguf.py`` does, run here in a
subprocess with this Python (it needs torch, transformers and safetensors, which ditto-desk has) and the
``gguf-py`` package of the same llama.cpp checkout, so that converter and GGUF writer match. The checkout is the
caller's (``converter``: the script or the checkout folder) or the one ``DITTO_DESK_LLAMA_CPP`` names.

The converter needs the base model's ``config.json`` only (no weights); for the bundled model that is the
checkpoint folder the GGUF was converted into (``models.bundled_checkpoint_dir()``). Measured in
``benchmarks/models.md`` ("LoRA as GGUF for llama.cpp"); reproduced by ``benchmarks/verify_gguf_adapter.py``.
No Qt here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ditto_desk.core.errors import GGUFAdapterError

LLAMA_CPP_ENV = "DITTO_DESK_LLAMA_CPP"
CONVERTER_NAME = "convert_lora_to_gguf.py"
GGUF_MAGIC = b"GGUF"
OUTTYPES = ("f32", "f16", "bf16", "q8_0", "auto")


def find_converter(converter: Path | None = None) -> Path:
    """llama.cpp's ``convert_lora_to_gguf.py``: ``converter`` (the script or a llama.cpp checkout), else the
    checkout ``DITTO_DESK_LLAMA_CPP`` names. GGUFAdapterError when neither leads to the script."""
    if converter is None:
        named = os.environ.get(LLAMA_CPP_ENV, "").strip()
        if not named:
            raise GGUFAdapterError(
                f"llama.cpp's {CONVERTER_NAME} is needed to write a GGUF adapter: set {LLAMA_CPP_ENV} to a "
                "llama.cpp checkout (the folder holding convert_lora_to_gguf.py and gguf-py/)."
            )
        converter = Path(named)
    converter = converter.expanduser()
    script = converter / CONVERTER_NAME if converter.is_dir() else converter
    if not script.is_file():
        raise GGUFAdapterError(f"{script} is not there: point to a llama.cpp checkout holding {CONVERTER_NAME}.")
    return script.resolve()


def export_gguf_adapter(
    adapter_dir: Path,
    base_checkpoint_dir: Path,
    out_file: Path,
    converter: Path | None = None,
    *,
    outtype: str = "f32",
    python: str | None = None,
    timeout: float = 600.0,
) -> Path:
    """Write the PEFT LoRA adapter in ``adapter_dir`` as a GGUF adapter file ``out_file`` and return its path.

    ``base_checkpoint_dir``: the base model as a Hugging Face folder (config.json is what is read).
    ``outtype`` f32 keeps the adapter's fp32 weights exactly (7.4 MB for r=16 on q/k/v/o of SmolLM2-135M).
    The file appears complete or not at all (written beside ``out_file``, then renamed).
    """
    adapter_dir, base_checkpoint_dir, out_file = Path(adapter_dir), Path(base_checkpoint_dir), Path(out_file)
    if outtype not in OUTTYPES:
        raise GGUFAdapterError(f"Unknown outtype {outtype!r}; choose {', '.join(OUTTYPES)}.")
    for needed in ("adapter_config.json", "adapter_model.safetensors"):
        if not (adapter_dir / needed).is_file():
            raise GGUFAdapterError(f"{adapter_dir} is not a PEFT adapter folder: {needed} is missing.")
    if not (base_checkpoint_dir / "config.json").is_file():
        raise GGUFAdapterError(f"{base_checkpoint_dir} is not a model folder: config.json is missing.")
    script = find_converter(converter)

    env = dict(os.environ)
    env["HF_HUB_OFFLINE"] = "1"  # --base is given: nothing is to be fetched, and nothing will be
    gguf_py = script.parent / "gguf-py"
    if gguf_py.is_dir():  # the writer of the same checkout, ahead of any installed gguf
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(gguf_py), env.get("PYTHONPATH", "")) if p)

    out_file.parent.mkdir(parents=True, exist_ok=True)
    partial = out_file.with_name(out_file.name + ".partial")
    command = [
        python or sys.executable,
        str(script),
        "--base",
        str(base_checkpoint_dir),
        "--outtype",
        outtype,
        "--outfile",
        str(partial),
        str(adapter_dir),
    ]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        partial.unlink(missing_ok=True)
        raise GGUFAdapterError(f"{script.name} did not finish in {timeout:.0f} s.") from exc
    except OSError as exc:
        raise GGUFAdapterError(f"Could not run {script.name}: {exc}") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = "\n".join((done.stderr or done.stdout or "").strip().splitlines()[-8:])
        raise GGUFAdapterError(f"{script.name} failed (exit {done.returncode}):\n{tail}")
    try:
        with partial.open("rb") as f:
            magic = f.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise GGUFAdapterError(f"{script.name} reported success but wrote no {partial.name}: {exc}") from exc
    if magic != GGUF_MAGIC:
        partial.unlink(missing_ok=True)
        raise GGUFAdapterError(f"{script.name} wrote a file that is not GGUF.")
    os.replace(partial, out_file)
    return out_file
