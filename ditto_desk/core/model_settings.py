"""Which model to use, where, and how quantized: plain data, no torch, so the window can read it at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BUNDLED = "bundled"
DEVICES = ("auto", "cpu", "cuda", "mps")
# auto: NF4 on CUDA, bf16 on a CPU with native bf16 arithmetic, full precision elsewhere (models.py says why).
QUANTIZATIONS = ("auto", "nf4", "int8", "bf16", "none")


@dataclass(frozen=True)
class ModelSettings:
    model: str = BUNDLED  # "bundled", a Hugging Face model id, or a local folder
    device: str = "auto"
    quantization: str = "auto"

    def to_json(self) -> dict[str, str]:
        return {"model": self.model, "device": self.device, "quantization": self.quantization}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelSettings:
        return cls(
            model=str(data.get("model") or BUNDLED),
            device=str(data.get("device") or "auto"),
            quantization=str(data.get("quantization") or "auto"),
        )
