"""Teaching by editing: an update of a profile's learned style from drafts the user corrected.

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

import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ditto_desk.core.errors import InputError
from ditto_desk.core.models.chat import Encoded, encode_prompt, encode_response
from ditto_desk.core.models.loading import LoadedModel
from ditto_desk.core.profiles.edits import Edit
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.training.adapters import load_for_update, write_trained
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.dpo import DpoRounds, DpoSteps, pair_sequences, pairs_dataset
from ditto_desk.core.training.examples import TrainingSet, length_cap, within_window
from ditto_desk.core.training.interrupt import cancel_checkpoints
from ditto_desk.core.training.pairs import EDIT, EXPERT, INTER_MODEL, REPLAY, UPDATE_KINDS, Pair, pairs_in_shares
from ditto_desk.core.training.reference import ReferenceScores
from ditto_desk.core.training.report import COST_SCORED_TOKEN, RunReport, RunStats, planned_cost
from ditto_desk.core.training.sampling import Sample, sample_round
from ditto_desk.core.training.segments import Example
from ditto_desk.core.training.trunk import Trunk, above

# Edits taught before that an update replays: the newest ones. Each costs a sample and two scored texts per
# update, so a profile taught hundreds of edits would otherwise update ever more slowly.
REPLAYED_EDITS = 8


class TeachRun:
    """One update from ``new_edits`` (and the newest ``earlier_edits``, replayed) on top of the adapter in
    ``adapter_dir``: one round of ``teach_steps`` DPO steps, made of the parts of a DITTO run (its training set,
    its sampling round, its reference scores, its DPO steps)."""

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
        if not demonstrations:
            raise InputError("Add at least one demonstration before training.")
        one_round = replace(config, dpo_steps=config.teach_steps, resample_every=config.teach_steps)
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.config = one_round.for_width(loaded.width)
        self.cancel = cancel or CancelToken()
        self.rng = random.Random(config.seed)
        self.adapter_dir = adapter_dir
        self.training = TrainingSet.of_demonstrations(self.tokenizer, demonstrations, self.config)
        self.n_demo_examples = len(self.training.examples)
        self.n_new = len(new_edits)
        self.drafts: list[tuple[int, ...]] = []  # per edit, in the order new_edits + earlier_edits
        for k, edit in enumerate([*new_edits, *earlier_edits[-REPLAYED_EDITS:]]):
            prompt = encode_prompt(self.tokenizer, edit.request)
            room = max(self.config.max_length - len(prompt), 1)
            edited = encode_response(self.tokenizer, edit.edited, room)
            self.drafts.append(encode_response(self.tokenizer, edit.draft, room))
            # A fresh sample for an edit's request competes with its draft (inter-model pairs): it may run as
            # long as the draft did, not as long as the edited text, which may be far longer.
            cap = length_cap(len(self.drafts[-1]), self.config.length_factor)
            example = Example(self.training.n_demos + k, 0, True, Encoded(prompt, edited))
            self.training.add(example, within_window(cap, len(prompt), self.config))
        self.report = RunReport(progress, planned_cost(self.config, self.training))
        self.model: Any = None

    @property
    def stats(self) -> RunStats:
        return self.report.stats

    def round_counts(self) -> list[int]:
        """DITTO's samples for the demonstrations, and one for each edit's request (its inter-model pairs)."""
        counts = self.training.round_counts(0, self.config.n_samples)
        return counts[: self.n_demo_examples] + [1] * (len(self.training.examples) - self.n_demo_examples)

    def run(self) -> Any:
        """Update the policy; return the peft model (its policy adapter is the result)."""
        torch.manual_seed(self.config.seed)
        c, report, training = self.config, self.report, self.training
        self.model, fingerprint = load_for_update(self.loaded.model, self.adapter_dir)
        with cancel_checkpoints(self.model, self.cancel), self.loaded.autocast():
            trunk = Trunk.of(self.model, self.tokenizer.pad_token_id)  # as the version was learned: top layers only
            with report.timed(Phase.SAMPLE):
                samples = sample_round(
                    self.model, self.tokenizer, training, self.round_counts(), c, 0, report, self.cancel
                )
            pairs = self._pairs(samples, c.teach_steps * c.dpo_batch_size)
            batches = [pairs[i * c.dpo_batch_size : (i + 1) * c.dpo_batch_size] for i in range(c.teach_steps)]
            drafts = [Sample(self.n_demo_examples + k, 0, d, False) for k, d in enumerate(self.drafts)]
            reference = ReferenceScores(self.model, fingerprint, self.tokenizer.pad_token_id, self.cancel, trunk)
            with report.timed(Phase.REFERENCE):
                report.clock.advance(reference.score(training, [*samples, *drafts]) * COST_SCORED_TOKEN)
            dataset = pairs_dataset(training.prompts, pairs, reference.token_logps, c.ld_alpha)
            steps_after = DpoSteps(self.model, c, report, UPDATE_KINDS, training.mean_length)
            dpo = DpoRounds(self.model, self.tokenizer, dataset, c, self.loaded.device, self.cancel)
            with report.timed(Phase.DPO), above(trunk, pair_sequences(training.prompts, pairs)):
                dpo.train(dataset, c.teach_steps, steps_after.reporter(0, 0, batches))
        report.finish("Update finished")
        return self.model

    def write_adapter(self, folder: Path) -> None:
        """Write the updated policy as a standard PEFT adapter folder, with the SFT reference it trained against."""
        write_trained(self.model, self.loaded.name, folder)

    def _pairs(self, samples: Sequence[Sample], n_pairs: int) -> list[Pair]:
        c = self.config
        fresh: dict[int, list[tuple[int, ...]]] = {}
        for s in samples:
            fresh.setdefault(s.example, []).append(s.ids)
        edits = range(self.n_demo_examples, len(self.training.examples))
        draft = {e: self.drafts[e - self.n_demo_examples] for e in edits}
        new = [e for e in edits if e - self.n_demo_examples < self.n_new]
        demos = range(self.n_demo_examples)
        candidates = {
            EDIT: [Pair(e, self.training.responses[e], draft[e], EDIT) for e in new],
            EXPERT: [Pair(d, self.training.responses[d], s, EXPERT) for d in demos for s in fresh.get(d, [])],
            REPLAY: [Pair(e, self.training.responses[e], draft[e], REPLAY) for e in edits if e not in new],
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
