"""DPO's reference: each response's per-token log-probs under the frozen SFT adapter, computed once.

The reference never changes during a run, so a response (a demonstration's segment, a sample, an edit's
draft) is scored the first time a pair needs it and never again; its fingerprint is checked before each use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ditto_desk.core.models.chat import Encoded
from ditto_desk.core.models.scoring import response_token_logprobs
from ditto_desk.core.progress import CancelToken
from ditto_desk.core.training.adapters import POLICY_ADAPTER, REFERENCE_ADAPTER, check_frozen
from ditto_desk.core.training.examples import TrainingSet
from ditto_desk.core.training.sampling import Sample
from ditto_desk.core.training.trunk import Trunk, above

Key = tuple[int, tuple[int, ...]]  # (example, response ids)


class ReferenceScores:
    """The reference log-probs of one run, keyed by (example, response): two runs share nothing."""

    def __init__(
        self, model: Any, fingerprint: str, pad_id: int, cancel: CancelToken, trunk: Trunk | None = None
    ) -> None:
        self.model = model
        self.fingerprint = fingerprint  # of the frozen reference adapter's weights, as it was made
        self.pad_id = pad_id
        self.cancel = cancel
        self.trunk = trunk  # the layers below both adapters, computed once (trunk.py)
        self.scores: dict[Key, tuple[float, ...]] = {}

    def score(self, training: TrainingSet, samples: Sequence[Sample]) -> int:
        """Score what is not scored yet, the training responses first, then ``samples``; the tokens scored."""
        wanted = [(e, r) for e, r in enumerate(training.responses) if (e, r) not in self.scores]
        wanted += [(s.example, s.ids) for s in samples if (s.example, s.ids) not in self.scores]
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return 0
        check_frozen(self.model, REFERENCE_ADAPTER, self.fingerprint)
        encoded = [Encoded(training.prompts[e], r) for e, r in wanted]
        self.model.set_adapter(REFERENCE_ADAPTER)
        try:
            with above(self.trunk, (e.prompt_ids + e.response_ids for e in encoded)):
                scored = response_token_logprobs(self.model, encoded, self.pad_id, cancel=self.cancel)
        finally:
            self.model.set_adapter(POLICY_ADAPTER)  # also re-freezes the reference adapter
        for key, token_logps in zip(wanted, scored, strict=True):
            self.scores[key] = token_logps
        return sum(len(training.prompts[e]) + len(r) for e, r in wanted)

    def token_logps(self, example: int, response: tuple[int, ...]) -> tuple[float, ...]:
        return self.scores[(example, response)]
