"""Teaching by editing (issue 11): an update of a profile's learned style from drafts the user corrected.

An update is one DITTO round that starts from the profile's current adapter and trains against the frozen
SFT reference saved beside it (``reference_model.safetensors``). The model samples again for every
demonstration and every edit's request; DPO then trains on pairs in these shares (``share_edit`` for the new
edits, DITTO's own shares for the rest):

- edit: an edit not taught yet: the edited text > the draft it corrected;
- expert: a demonstration > a fresh sample for it (the demonstrations always stay in);
- replay: an edit taught before: its edited text > its draft;
- inter-model: a fresh sample for an edit's request > that edit's draft (a later sample beats an earlier one).

The chosen texts' likelihood is trained beside DPO's loss (``rpo_alpha``, trl's "sft" loss; the quick preset
has 1). (edited > draft) alone can be won by pushing the draft's likelihood down, which says little about
the edited text; the likelihood term pulls the edited text up. Tucker et al. (2024) and Misra et al. (2025)
found the two together better than either; ``benchmarks/teach.md`` measures the three on this model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ditto_desk.core.errors import InputError
from ditto_desk.core.models.chat import Encoded, encode_prompt, encode_response
from ditto_desk.core.models.loading import LoadedModel
from ditto_desk.core.profiles.edits import Edit
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressClock, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.training.adapters import POLICY_ADAPTER, load_for_update, snapshot
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.dpo import DpoRounds, pairs_dataset
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.interrupt import cancel_checkpoints
from ditto_desk.core.training.pairs import EDIT, EXPERT, INTER_MODEL, REPLAY, UPDATE_KINDS, Pair, pairs_in_shares
from ditto_desk.core.training.sampling import Sample, length_cap
from ditto_desk.core.training.segments import Example

# Edits taught before that an update replays: the newest ones. Each costs a sample and two scored texts per
# update, so a profile taught hundreds of edits would otherwise update ever more slowly.
REPLAYED_EDITS = 8


class TeachRun(DittoRun):
    """One update from ``new_edits`` (and the newest ``earlier_edits``, replayed) on top of the adapter in
    ``adapter_dir``."""

    def __init__(
        self,
        loaded: LoadedModel,
        demonstrations: Sequence[Demonstration],
        new_edits: Sequence[Edit],
        earlier_edits: Sequence[Edit],
        adapter_dir: Path,
        config: TrainingConfig,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> None:
        if not new_edits:
            raise InputError("There is no new edit to teach: correct a draft first.")
        one_round = replace(config, dpo_steps=config.teach_steps, resample_every=config.teach_steps)
        super().__init__(loaded, demonstrations, one_round, progress, cancel)
        self.adapter_dir = adapter_dir
        self.pair_kinds = UPDATE_KINDS
        self.n_demo_examples = len(self.examples)
        self.drafts: list[tuple[int, ...]] = []  # per edit, in the order new_edits + earlier_edits
        self.n_new = len(new_edits)
        for k, edit in enumerate([*new_edits, *earlier_edits[-REPLAYED_EDITS:]]):
            prompt = encode_prompt(self.tokenizer, edit.request)
            room = max(self.config.max_length - len(prompt), 1)
            edited = encode_response(self.tokenizer, edit.edited, room)
            self.examples.append(Example(self.n_demos + k, 0, True, Encoded(prompt, edited)))
            self.drafts.append(encode_response(self.tokenizer, edit.draft, room))
            self.prompts.append(prompt)
            self.responses.append(edited)
            # A fresh sample for an edit's request competes with its draft (inter-model pairs): it may run as
            # long as the draft did, not as long as the edited text, which may be far longer.
            cap = length_cap(len(self.drafts[-1]), self.config.length_factor)
            self.caps.append(max(8, min(cap, self.config.max_length - len(prompt))))
        self.clock = ProgressClock(self._planned_cost())

    def _round_counts(self, round_index: int) -> list[int]:
        """DITTO's samples for the demonstrations, and one for each edit's request (its inter-model pairs)."""
        counts = super()._round_counts(round_index)
        return counts[: self.n_demo_examples] + [1] * (len(self.examples) - self.n_demo_examples)

    def run(self) -> Any:
        """Update the policy; return the peft model (its policy adapter is the result)."""
        torch.manual_seed(self.config.seed)
        c = self.config
        self.model, self._reference_fingerprint = load_for_update(self.loaded.model, self.adapter_dir)
        with cancel_checkpoints(self.model, self.cancel), self.loaded.autocast():
            with self._timed(Phase.SAMPLE):
                samples = self._sample_round(0)
            pairs = self._pairs(samples, c.teach_steps * c.dpo_batch_size)
            batches = [pairs[i * c.dpo_batch_size : (i + 1) * c.dpo_batch_size] for i in range(c.teach_steps)]
            drafts = [Sample(self.n_demo_examples + k, 0, d, False) for k, d in enumerate(self.drafts)]
            with self._timed(Phase.REFERENCE):
                self._score_reference([*samples, *drafts])
            dataset = pairs_dataset(self.prompts, pairs, self._reference_token_logps, c.ld_alpha)
            self._policy_states = [snapshot(self.model, POLICY_ADAPTER)]
            dpo = DpoRounds(self.model, self.tokenizer, dataset, c, self.loaded.device, self.cancel)
            with self._timed(Phase.DPO):
                dpo.train(dataset, c.teach_steps, self._dpo_reporter(0, 0, batches))
        self.clock.advance(self.clock.total_units)
        self._emit(Phase.DONE, "Update finished")
        return self.model

    def _pairs(self, samples: Sequence[Sample], n_pairs: int) -> list[Pair]:
        c = self.config
        fresh: dict[int, list[tuple[int, ...]]] = {}
        for s in samples:
            fresh.setdefault(s.example, []).append(s.ids)
        edits = range(self.n_demo_examples, len(self.examples))
        draft = {e: self.drafts[e - self.n_demo_examples] for e in edits}
        new = [e for e in edits if e - self.n_demo_examples < self.n_new]
        demos = range(self.n_demo_examples)
        candidates = {
            EDIT: [Pair(e, self.responses[e], draft[e], EDIT) for e in new],
            EXPERT: [Pair(d, self.responses[d], s, EXPERT) for d in demos for s in fresh.get(d, [])],
            REPLAY: [Pair(e, self.responses[e], draft[e], REPLAY) for e in edits if e not in new],
            INTER_MODEL: [Pair(e, s, draft[e], INTER_MODEL) for e in edits for s in fresh.get(e, []) if s != draft[e]],
        }
        rest = 1.0 - c.share_edit
        shares = {
            EDIT: c.share_edit,
            EXPERT: rest * c.share_expert,
            REPLAY: rest * c.share_replay,
            INTER_MODEL: rest * c.share_intermodel,
        }
        return pairs_in_shares(self.rng, candidates, n_pairs, shares)
