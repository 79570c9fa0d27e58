"""The models the picker offers, and the shape of any model: what its size, memory and speed estimates rest on.

Every entry is a small instruct (chat) model whose architecture transformers 5.24 trains with peft's LoRA on
q/k/v/o and trl's DPO, written in safetensors. The shapes are copied from each model's own config.json;
sizes are computed from them (bf16 weights, as each repository stores them), so they are close to, not
exactly, the download. Plain data, no torch: the Settings dialog reads it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ditto_desk.core.models.settings import BUNDLED_NAME

APACHE = "Apache-2.0"
BYTES_PER_BF16 = 2


@dataclass(frozen=True)
class ModelShape:
    """The numbers of a decoder-only transformer that its cost follows from."""

    layers: int
    hidden: int
    intermediate: int
    vocab: int
    heads: int
    kv_heads: int
    head_dim: int
    tied_embeddings: bool = True

    @property
    def layer_params(self) -> int:
        attention = self.hidden * self.head_dim * (2 * self.heads + 2 * self.kv_heads)  # q, o and k, v
        return attention + 3 * self.hidden * self.intermediate  # gate, up and down projections

    @property
    def params(self) -> int:
        embeddings = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        return self.layers * self.layer_params + embeddings

    @property
    def flops_per_token(self) -> float:
        """A forward pass's multiply-adds per token, times two: every layer plus the output layer (the input
        embedding is a lookup). Attention over the context is left out: at a few hundred tokens it is small."""
        return 2.0 * (self.layers * self.layer_params + self.vocab * self.hidden)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModelShape:
        """The shape from a model's config.json (multimodal configs keep the language model's in text_config)."""
        config = config.get("text_config") or config
        heads = int(config["num_attention_heads"])
        hidden = int(config["hidden_size"])
        return cls(
            layers=int(config["num_hidden_layers"]),
            hidden=hidden,
            intermediate=int(config["intermediate_size"]),
            vocab=int(config["vocab_size"]),
            heads=heads,
            kv_heads=int(config.get("num_key_value_heads") or heads),
            head_dim=int(config.get("head_dim") or hidden // heads),
            tied_embeddings=bool(config.get("tie_word_embeddings", True)),
        )


@dataclass(frozen=True)
class CatalogModel:
    repo_id: str
    shape: ModelShape
    licence: str
    gated: bool = False  # the user must accept the licence on Hugging Face and give this computer a token
    note: str = ""

    @property
    def name(self) -> str:
        return self.repo_id.split("/")[-1]

    @property
    def download_bytes(self) -> int:
        return self.shape.params * BYTES_PER_BF16

    @property
    def bundled(self) -> bool:
        """The model the app ships with: chosen as "the bundled model", never downloaded."""
        return self.name == BUNDLED_NAME


SMOLLM2 = "HuggingFaceTB/SmolLM2-{}-Instruct"
CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel(
        SMOLLM2.format("135M"),
        ModelShape(30, 576, 1536, 49152, 9, 3, 64),
        APACHE,
        note="The bundled model: learns fast, writes loosely.",
    ),
    CatalogModel(SMOLLM2.format("360M"), ModelShape(32, 960, 2560, 49152, 15, 5, 64), APACHE),
    CatalogModel(SMOLLM2.format("1.7B"), ModelShape(24, 2048, 8192, 49152, 32, 32, 64), APACHE),
    CatalogModel("Qwen/Qwen2.5-0.5B-Instruct", ModelShape(24, 896, 4864, 151936, 14, 2, 64), APACHE),
    CatalogModel("Qwen/Qwen2.5-1.5B-Instruct", ModelShape(28, 1536, 8960, 151936, 12, 2, 128), APACHE),
    CatalogModel(
        "Qwen/Qwen3-0.6B",
        ModelShape(28, 1024, 3072, 151936, 16, 8, 128),
        APACHE,
        note="Writes without its thinking step here.",
    ),
    CatalogModel(
        "Qwen/Qwen3-1.7B",
        ModelShape(28, 2048, 6144, 151936, 16, 8, 128),
        APACHE,
        note="Writes without its thinking step here.",
    ),
    CatalogModel(
        "meta-llama/Llama-3.2-1B-Instruct",
        ModelShape(16, 2048, 8192, 128256, 32, 8, 64),
        "Llama 3.2 Community License",
        gated=True,
    ),
    CatalogModel(
        "meta-llama/Llama-3.2-3B-Instruct",
        ModelShape(28, 3072, 8192, 128256, 24, 8, 128),
        "Llama 3.2 Community License",
        gated=True,
    ),
    CatalogModel(
        "google/gemma-3-1b-it", ModelShape(26, 1152, 6912, 262144, 4, 1, 256), "Gemma Terms of Use", gated=True
    ),
)
