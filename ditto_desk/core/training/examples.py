"""What a run trains on: its examples (a segment of a demonstration, or a taught edit), each with its prompt,
the response to learn and the cap on the samples drawn for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.replies import demonstration_request
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.segments import Example, encode_demonstrations

MIN_SAMPLE_CAP = 8


@dataclass
class TrainingSet:
    """The examples in order: the demonstrations' segments first (``demo_index`` below ``n_demos``), then any
    others a run adds. ``prompts``, ``responses`` and ``caps`` are indexed like ``examples``."""

    n_demos: int
    examples: list[Example] = field(default_factory=list)
    prompts: list[tuple[int, ...]] = field(default_factory=list)
    responses: list[tuple[int, ...]] = field(default_factory=list)
    caps: list[int] = field(default_factory=list)

    @classmethod
    def of_demonstrations(
        cls, tokenizer: Any, demonstrations: Sequence[Demonstration], config: TrainingConfig
    ) -> TrainingSet:
        """Every demonstration in segments (segments.py), each sample capped by its own text's length; a reply's
        segments all answer its request with the message it replies to."""
        requests = [demonstration_request(tokenizer, d) for d in demonstrations]
        texts = [d.text for d in demonstrations]
        training = cls(len(demonstrations))
        for example in encode_demonstrations(tokenizer, requests, texts, config.segment_tokens, config.max_length):
            training.add(example, _demonstration_cap(example, config))
        return training

    def add(self, example: Example, cap: int) -> None:
        self.examples.append(example)
        self.prompts.append(example.prompt_ids)
        self.responses.append(example.response_ids)
        self.caps.append(cap)

    @property
    def mean_length(self) -> float:
        return sum(e.encoded.length for e in self.examples) / len(self.examples)

    def round_counts(self, round_index: int, n_samples: int) -> list[int]:
        """Samples per example this round: ``n_samples`` per demonstration, spread over its segments, starting
        one segment further each round so that over the rounds every segment of a long text gets its samples.
        Examples that are not a demonstration's get none."""
        counts = [0] * len(self.examples)
        for demo in range(self.n_demos):
            parts = [i for i, e in enumerate(self.examples) if e.demo_index == demo]
            for k in range(n_samples):
                counts[parts[(round_index * n_samples + k) % len(parts)]] += 1
        return counts


def length_cap(response_length: int, factor: float, floor: int = 32, ceiling: int = 1024) -> int:
    """New-token cap for a sample: a little more than the demonstration it answers."""
    return int(min(ceiling, max(floor, factor * response_length)))


def within_window(cap: int, prompt_length: int, config: TrainingConfig) -> int:
    """A sample cap kept inside the training window (and above a few tokens)."""
    return max(MIN_SAMPLE_CAP, min(cap, config.max_length - prompt_length))


def _demonstration_cap(example: Example, config: TrainingConfig) -> int:
    """New-token cap for samples of one example, from its own demonstration, within the training window.

    Samples of a text's last segment may run a little longer than it (``length_factor``) so that they can end
    on their own; a segment that the text goes on past is cut at its own length, as the text itself was.
    """
    own = len(example.response_ids)
    cap = config.max_new_tokens or (length_cap(own, config.length_factor) if example.final else own)
    return within_window(cap, len(example.prompt_ids), config)
