"""Which model to use, where, and how quantized: plain data, no torch, so the window can read it at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUNDLED = "bundled"  # the model setting that means the bundled model...
BUNDLED_NAME = "SmolLM2-135M-Instruct"  # ...and its name, for the window and the cache (here: no torch to read it)
AUTO = "auto"  # a device or quantization the core picks for this computer
DEVICES = (AUTO, "cpu", "cuda", "mps")
# auto: NF4 on CUDA, bf16 on a CPU with native bf16 arithmetic, full precision elsewhere (loading.py says why).
QUANTIZATIONS = (AUTO, "nf4", "int8", "bf16", "none")


@dataclass(frozen=True)
class ModelSettings:
    model: str = BUNDLED  # "bundled", a Hugging Face model id, a local folder, or a .gguf file
    device: str = AUTO
    quantization: str = AUTO

    def to_json(self) -> dict[str, str]:
        return {"model": self.model, "device": self.device, "quantization": self.quantization}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelSettings:
        return cls(
            model=str(data.get("model") or BUNDLED),
            device=str(data.get("device") or AUTO),
            quantization=str(data.get("quantization") or AUTO),
        )


def is_hub_id(text: str) -> bool:
    """A well-formed Hugging Face model id ("owner/name", or a legacy bare "name")."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return text.count("/") <= 1 and not text.startswith((".", "~"))


def is_folder_choice(model: str) -> bool:
    """A path on this computer (a model folder or a .gguf file) rather than a Hugging Face id ("owner/name")."""
    return Path(model).expanduser().exists() or model.lower().endswith(".gguf") or not is_hub_id(model)


def model_choice_problem(model: str, as_folder: bool | None = None) -> str | None:
    """Why ``model`` cannot be used as given, or None; without the network. The one check behind load_model,
    the command line and the window's Settings. ``as_folder``: the user said it is a folder (or a hub id)."""
    if model == BUNDLED:
        return None
    if as_folder is False or (as_folder is None and not is_folder_choice(model)):
        return None if is_hub_id(model) else f"{model!r} is not a Hugging Face model id (owner/name)."
    path = Path(model).expanduser()
    if path.is_file():  # a GGUF file (LM Studio's, Ollama's, llama.cpp's), whatever its name: Ollama's have none
        try:
            with path.open("rb") as file:
                is_gguf = file.read(4) == b"GGUF"
        except OSError as exc:
            return f"Could not read {path} ({exc.strerror or exc}). Check that you may open it."
        return None if is_gguf else f"{path} is not a GGUF model file. Pick a .gguf file, or a model folder."
    if model.lower().endswith(".gguf"):
        return f"There is no file {path}. Pick an existing .gguf file."
    if not path.is_dir():
        return (
            f"There is no folder {path}. Pick an existing model folder, or give a Hugging Face model id "
            "such as HuggingFaceTB/SmolLM2-360M-Instruct."
        )
    if not (path / "config.json").is_file():
        return f"{path} is not a model folder (it has no config.json). Pick a folder saved by transformers."
    return None


def model_name(model: str) -> str:
    """The name ``load_model`` gives the model chosen as ``model`` (``LoadedModel.name``, what an adapter
    records as its base), without loading or downloading anything."""
    if model == BUNDLED:
        return BUNDLED_NAME
    path = Path(model).expanduser()
    if path.is_dir():
        return path.name
    return path.stem if path.is_file() else model  # a .gguf file, else a Hugging Face id
