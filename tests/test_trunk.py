"""The frozen trunk: with LoRA on the top layers only, the layers below are computed once per text, and every
pass that starts above them gives the loss and the gradients of the full-depth pass."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from ditto_desk.core.jobs import train_profile
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled, CancelToken, ProgressEvent
from ditto_desk.core.training import trunk as trunk_module
from ditto_desk.core.training.adapters import POLICY_ADAPTER, adapter_weights
from ditto_desk.core.training.checkpoint import CHECKPOINT_DIR, kept_learning
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.trunk import Trunk, above


@pytest.fixture
def four_layers(tiny_model_dir):
    """A 4-layer random Llama with LoRA (random, so that it matters) on its top two layers."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    torch.manual_seed(1)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], layers_to_transform=[2, 3], init_lora_weights=False)
    model = get_peft_model(LlamaForCausalLM(config), lora, adapter_name=POLICY_ADAPTER)
    return model, tokenizer.pad_token_id


def _batch(sequences: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded, labels on every real token: as SFT, the reference scores and trl's DPO batch them."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, s in enumerate(sequences):
        ids[row, : len(s)], mask[row, : len(s)] = torch.tensor(s), 1
    return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}


def _loss_and_grads(model, batch) -> tuple[torch.Tensor, list[torch.Tensor]]:
    loss = model(**batch).loss
    params = [p for p in model.parameters() if p.requires_grad]
    return loss.detach(), [g.detach() for g in torch.autograd.grad(loss, params)]


def test_a_pass_above_the_trunk_gives_the_loss_and_gradients_of_full_depth(four_layers) -> None:
    model, pad = four_layers
    trunk = Trunk.of(model, pad)
    assert trunk is not None and trunk.start == 2
    # Texts of several lengths, one ending with EOS, which is also the padding here.
    sequences = [[5, 17, 99, 4, 250, 8, 8, 301], [5, 17, 42, 7, pad], [9, 3, 77, 12, 6, 1000, 23]]
    batch = _batch(sequences, pad)
    full_loss, full_grads = _loss_and_grads(model, batch)
    with above(trunk, sequences):
        loss, grads = _loss_and_grads(model, batch)
    assert loss == pytest.approx(float(full_loss), rel=1e-5)
    assert len(grads) == len(full_grads) == 8  # q and v, A and B, on the two top layers
    for grad, full in zip(grads, full_grads, strict=True):
        torch.testing.assert_close(grad, full, rtol=1e-4, atol=1e-6)
    # Computed once per text: a second pass over the same texts computes nothing more.
    before = trunk.tokens
    assert before == sum(len(trunk.key(s)) for s in sequences)
    assert trunk.fill(sequences) == 0 and trunk.tokens == before
    # Outside the block the model is whole again.
    assert _loss_and_grads(model, batch)[0] == pytest.approx(float(full_loss), rel=1e-6)


def test_a_text_never_filled_is_refused_rather_than_guessed(four_layers) -> None:
    model, pad = four_layers
    trunk = Trunk.of(model, pad)
    assert trunk is not None
    with trunk.skipped(), pytest.raises(KeyError, match="never computed"):
        model(**_batch([[5, 6, 7, 8]], pad))


def test_lora_on_every_layer_or_a_model_that_computes_otherwise_has_no_trunk(four_layers) -> None:
    model, pad = four_layers
    model.peft_config[POLICY_ADAPTER].layers_to_transform = None
    assert Trunk.of(model, pad) is None
    model.peft_config[POLICY_ADAPTER].layers_to_transform = [2, 3]

    class ScalesItsEmbeddings(torch.nn.Module):
        """A decoder that works on its embeddings after the embedding layer, as Gemma 1 did."""

        def __init__(self, decoder: torch.nn.Module) -> None:
            super().__init__()
            self.embed_tokens, self.layers = decoder.embed_tokens, decoder.layers

        def forward(self, input_ids: torch.Tensor, **kwargs: object) -> torch.Tensor:
            hidden = self.embed_tokens(input_ids) * 4.0
            for layer in self.layers:
                hidden = layer(hidden, position_embeddings=rotary(hidden, positions(hidden)))
            return hidden

    decoder = model.get_base_model().get_decoder()
    rotary = decoder.rotary_emb

    def positions(hidden: torch.Tensor) -> torch.Tensor:
        return torch.arange(hidden.shape[1]).unsqueeze(0)

    strange = SimpleNamespace(
        peft_config=model.peft_config,
        active_adapter=POLICY_ADAPTER,
        get_base_model=lambda: SimpleNamespace(get_decoder=lambda: ScalesItsEmbeddings(decoder)),
    )
    assert Trunk.of(strange, pad) is None  # trained at full depth instead


def test_a_run_on_the_top_layers_learns_as_the_same_run_at_full_depth(
    tiny_settings, tiny_config, sample_demos, monkeypatch
) -> None:
    config = tiny_config.with_overrides(lora_layers=1)  # the tiny model has 2 layers: a 1-layer trunk
    with_trunk = DittoRun(load_model(tiny_settings), sample_demos, config)
    with_trunk.run()
    assert with_trunk.trunk is not None and with_trunk.trunk.start == 1
    monkeypatch.setattr(trunk_module.Trunk, "of", classmethod(lambda cls, model, pad_id: None))
    full_depth = DittoRun(load_model(tiny_settings), sample_demos, config)
    full_depth.run()
    assert full_depth.trunk is None
    losses = [[e["loss"] for e in run.stats.log if "loss" in e] for run in (with_trunk, full_depth)]
    assert len(losses[0]) == len(losses[1]) == 4 and losses[0] == pytest.approx(losses[1], rel=1e-4)
    trained, reference = (
        adapter_weights(with_trunk.model, POLICY_ADAPTER),
        adapter_weights(full_depth.model, POLICY_ADAPTER),
    )
    assert trained.keys() == reference.keys() and all(".layers.1." in name for name in trained)
    for name in trained:
        torch.testing.assert_close(trained[name], reference[name], rtol=1e-3, atol=1e-5)


def test_a_cancelled_run_above_the_trunk_changes_nothing(tiny_settings, tiny_config, sample_demos) -> None:
    store = ProfileStore()
    store.create("me").save_demonstrations(sample_demos)
    config = tiny_config.with_overrides(lora_layers=1)
    train_profile(store, "me", tiny_settings, config)
    before = {p: p.read_bytes() for p in sorted((store.root / "me").rglob("*")) if p.is_file()}
    cancel = CancelToken()

    def cancel_in_dpo(event: ProgressEvent) -> None:
        if event.phase == "dpo":
            cancel.cancel()

    with pytest.raises(Cancelled):
        train_profile(store, "me", tiny_settings, config, cancel_in_dpo, cancel)
    after = {p: p.read_bytes() for p in sorted((store.root / "me").rglob("*")) if p.is_file()}
    kept = store.root / "me" / CHECKPOINT_DIR
    assert {p: data for p, data in after.items() if kept not in p.parents} == before  # the profile is as it was
    assert kept_learning(store.root / "me") == "SFT"  # and beside it, what the same learning continues from


def test_a_style_learned_on_the_top_layers_is_taught_above_its_trunk(tiny_settings, tiny_config, sample_demos) -> None:
    from ditto_desk.core.jobs import teach_profile

    store = ProfileStore()
    store.create("me").save_demonstrations(sample_demos)
    config = tiny_config.with_overrides(lora_layers=1, teach_steps=1)
    train_profile(store, "me", tiny_settings, config)
    profile = store.load("me")
    profile.add_edit("Write an email about: lunch", "Lunch is at noon.", "Lunch is at noon, in the park. Bring a hat!")
    fills: list[int] = []
    real_fill = Trunk.fill

    def counted(self: Trunk, sequences) -> int:
        fills.append(self.start)
        return real_fill(self, sequences)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Trunk, "fill", counted)
        summary = teach_profile(store, "me", tiny_settings, config)
    assert fills and set(fills) == {1}  # the reference scores and DPO both started above layer 1
    assert store.load("me").active_adapter_dir == summary.adapter_dir
