"""DITTO's two adapters: the engine's own frozen reference, and the optimizers each phase is given."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, get_peft_model
from trl import DPOConfig

from ditto_desk.core.models.loading import load_model
from ditto_desk.core.progress import ProgressEvent
from ditto_desk.core.training.adapters import (
    POLICY_ADAPTER,
    REFERENCE_ADAPTER,
    ReferenceChangedError,
    adapter_weights,
    check_frozen,
    freeze_copy,
)
from ditto_desk.core.training.config import preset
from ditto_desk.core.training.dpo import make_optimizer
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.trainer_glue import common_args


@pytest.fixture
def peft_model(tiny_settings):
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    model = get_peft_model(load_model(tiny_settings).model, lora, adapter_name=POLICY_ADAPTER)
    with torch.no_grad():  # a trained-looking policy: LoRA's B starts at zero
        for name, param in model.named_parameters():
            if f".{POLICY_ADAPTER}." in name:
                param.normal_()
    return model


def test_the_frozen_copy_is_exact_and_nothing_trains_it(peft_model) -> None:
    fingerprint = freeze_copy(peft_model, POLICY_ADAPTER, REFERENCE_ADAPTER)
    policy, reference = adapter_weights(peft_model, POLICY_ADAPTER), adapter_weights(peft_model, REFERENCE_ADAPTER)
    assert policy.keys() == reference.keys() and all(torch.equal(policy[k], reference[k]) for k in policy)
    assert peft_model.active_adapter == POLICY_ADAPTER
    trainable = {n for n, p in peft_model.named_parameters() if p.requires_grad}
    assert trainable and all(f".{POLICY_ADAPTER}." in n for n in trainable)
    check_frozen(peft_model, REFERENCE_ADAPTER, fingerprint)


def test_a_reference_that_moved_or_can_train_is_refused(peft_model) -> None:
    fingerprint = freeze_copy(peft_model, POLICY_ADAPTER, REFERENCE_ADAPTER)
    weight = next(p for n, p in peft_model.named_parameters() if f".{REFERENCE_ADAPTER}." in n)
    weight.requires_grad_(True)
    with pytest.raises(ReferenceChangedError, match="trainable"):
        check_frozen(peft_model, REFERENCE_ADAPTER, fingerprint)
    weight.requires_grad_(False)
    with torch.no_grad():
        weight.view(-1)[0] += 1e-6  # one weight, a rounding error's worth
    with pytest.raises(ReferenceChangedError, match="changed"):
        check_frozen(peft_model, REFERENCE_ADAPTER, fingerprint)
    with pytest.raises(ReferenceChangedError, match="no 'missing' adapter"):
        check_frozen(peft_model, "missing")


def test_training_keeps_its_own_reference_and_refuses_one_that_moved(tiny_settings, tiny_config, sample_demos) -> None:
    """After a run the model holds the policy and the engine's frozen SFT copy, nothing else (trl's own "ref"
    copy is dropped); and a reference that changes between rounds stops the run before it is used."""
    run = DittoRun(load_model(tiny_settings), sample_demos, tiny_config)
    model = run.run()
    assert set(model.peft_config) == {POLICY_ADAPTER, REFERENCE_ADAPTER}
    check_frozen(model, REFERENCE_ADAPTER, run.reference.fingerprint)

    def tamper_in_round_two(event: ProgressEvent) -> None:
        if event.phase == "sample" and event.message.startswith("Round 2") and event.step == 0:
            with torch.no_grad():
                next(p for n, p in run.model.named_parameters() if f".{REFERENCE_ADAPTER}." in n).add_(1.0)

    run = DittoRun(load_model(tiny_settings), sample_demos, tiny_config, tamper_in_round_two)
    with pytest.raises(ReferenceChangedError, match="changed since it was frozen"):
        run.run()


@pytest.mark.parametrize(("name", "expected"), [("adamw_torch", torch.optim.AdamW), ("rmsprop", torch.optim.RMSprop)])
def test_dpo_gets_the_optimizer_it_names_without_weight_decay(name, expected, peft_model) -> None:
    config = preset("quick").with_overrides(dpo_optimizer=name)
    args = DPOConfig(**common_args("cpu", 0), optim=name, learning_rate=config.dpo_learning_rate, weight_decay=0.0)
    optimizer, _ = make_optimizer(peft_model, args, config)
    assert type(optimizer) is expected
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.0]
    assert optimizer.param_groups[0]["lr"] == pytest.approx(config.dpo_learning_rate)


def test_the_paper_preset_uses_the_reference_codes_optimizer_in_both_phases() -> None:
    paper = preset("paper")
    assert (paper.sft_optimizer, paper.dpo_optimizer) == ("rmsprop", "rmsprop")
    assert (paper.temperature, paper.top_k, paper.top_p) == (1.0, 50, 1.0)


def test_ditto_samples_the_same_whatever_the_model_ships_as_its_own_sampling_defaults(tiny_settings) -> None:
    """Temperature, top-k, top-p and the repetition penalty come from the config, never from a model's
    generation_config (Qwen2.5-Instruct ships top_k 20, top_p 0.8 and a repetition penalty of 1.05)."""
    from ditto_desk.core.training.sampling import draw_samples

    loaded = load_model(tiny_settings)
    config = preset("quick")
    prompts = [(1, 2, 3, 4), (5, 6, 7)]

    def draw() -> list[tuple[int, ...]]:
        samples = draw_samples(
            loaded.model, loaded.tokenizer, prompts, 3, 12, config.temperature, 8, 0, seed=5, **config.sampling()
        )
        return [s.ids for s in samples]

    plain = draw()
    loaded.model.generation_config.update(top_k=1, top_p=0.1, repetition_penalty=5.0, temperature=0.1)
    assert draw() == plain


def test_generation_merges_the_adapter_and_gives_the_base_weights_back_bit_for_bit(peft_model) -> None:
    """Drawing with the adapter folded into the base weights gives the policy's outputs, and afterwards every
    base weight is the tensor it was, bit for bit, and the adapter works as before."""
    from ditto_desk.core.models.decoding import merged_for_generation

    peft_model.eval()
    ids = torch.tensor([[1, 5, 9, 14, 3]])
    bases = {n: p.detach().clone() for n, p in peft_model.named_parameters() if "lora_" not in n}
    with torch.no_grad():
        before = peft_model(ids).logits
        with merged_for_generation(peft_model):
            assert all(m.merged for m in peft_model.modules() if hasattr(m, "merged_adapters"))
            inside = peft_model(ids).logits
        after = peft_model(ids).logits
    torch.testing.assert_close(inside, before, rtol=1e-4, atol=1e-4)
    assert torch.equal(after, before)
    now = {n: p.detach() for n, p in peft_model.named_parameters() if "lora_" not in n}
    assert now.keys() == bases.keys() and all(torch.equal(now[n], bases[n]) for n in bases)
    assert not any(m.merged for m in peft_model.modules() if hasattr(m, "merged_adapters"))


def test_generation_without_the_adapter_merges_nothing(peft_model) -> None:
    from ditto_desk.core.models.decoding import merged_for_generation

    with peft_model.disable_adapter(), merged_for_generation(peft_model):
        assert not any(m.merged for m in peft_model.modules() if hasattr(m, "merged_adapters"))


def test_saving_an_adapter_asks_nothing_of_the_network(peft_model, monkeypatch) -> None:
    """peft's default looks the base model up on the Hugging Face hub at every save; the app must not."""
    import peft.utils.save_and_load as save_and_load

    def no_network(*args, **kwargs):
        raise AssertionError("a network lookup while saving an adapter")

    monkeypatch.setattr(save_and_load, "check_file_exists_on_hf_hub", no_network)
    # As after loading a saved version: its config names the base model, not a folder with a config.json.
    peft_model.peft_config[POLICY_ADAPTER].base_model_name_or_path = "SmolLM2-135M-Instruct"
    assert adapter_weights(peft_model, POLICY_ADAPTER)
