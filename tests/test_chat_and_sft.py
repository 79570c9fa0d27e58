"""Encoding and the SFT batch: the loss sees the response and its EOS, never the prompt."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from ditto_desk.core.models.chat import Encoded, encode_prompt, encode_response, trim_generated
from ditto_desk.core.training.examples import length_cap
from ditto_desk.core.training.sft import ResponseOnlyCollator


def encode_example(tokenizer, request: str, text: str) -> Encoded:
    return Encoded(encode_prompt(tokenizer, request), encode_response(tokenizer, text))


def test_sft_labels_mask_the_prompt_and_keep_eos(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    short = encode_example(tokenizer, "Write a note", "hey all — short one.")
    long = encode_example(tokenizer, "Write a longer note please", "hey all — " + "words " * 30)
    batch = ResponseOnlyCollator(tokenizer.pad_token_id)([short, long])
    for row, example in enumerate([short, long]):
        labels = batch["labels"][row].tolist()
        n_prompt, n_total = len(example.prompt_ids), example.length
        assert all(label == -100 for label in labels[:n_prompt]), "prompt tokens must not be trained on"
        assert labels[n_prompt:n_total] == list(example.response_ids)
        assert labels[n_total - 1] == tokenizer.eos_token_id, "EOS must be learned, not lost to padding"
        assert all(label == -100 for label in labels[n_total:]), "padding is not trained on"
        assert batch["attention_mask"][row].sum().item() == n_total


def test_prompt_is_the_chat_template_up_to_the_answer(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = tokenizer.decode(encode_prompt(tokenizer, "Say hi"))
    assert text.rstrip().endswith("<|im_start|>assistant")
    assert "Say hi" in text


def test_trim_generated_keeps_eos_and_reports_cut() -> None:
    assert trim_generated([5, 6, 2, 2, 2], eos_id=2) == ((5, 6, 2), False)
    assert trim_generated([5, 6, 7], eos_id=2) == ((5, 6, 7), True)


def test_length_cap_follows_the_demonstrations() -> None:
    assert length_cap(150, factor=1.3) == 195
    assert length_cap(3, factor=1.3) == 32  # never absurdly short
    assert length_cap(5000, factor=1.3) == 1024


def test_micro_batches_make_up_the_whole_batch() -> None:
    from ditto_desk.core.training.config import micro_batches

    assert micro_batches(4, 1) == (1, 4)
    assert micro_batches(4, 2) == (2, 2)
    assert micro_batches(4, 8) == (4, 1)  # a micro-batch larger than the batch is the batch
    assert micro_batches(6, 4) == (3, 2)  # split evenly rather than 4 + 2
    assert micro_batches(3, 0) == (1, 3)


def test_gradient_accumulation_gives_the_same_sft_step(tiny_model_dir: Path, sample_demos) -> None:
    """One optimizer step over 4 texts is the same whether they go through in one pass or four."""
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict

    from ditto_desk.core.models.loading import load_model
    from ditto_desk.core.models.settings import ModelSettings
    from ditto_desk.core.progress import CancelToken
    from ditto_desk.core.training.config import preset
    from ditto_desk.core.training.sft import train_sft

    adapters = []
    for micro in (4, 1):
        loaded = load_model(ModelSettings(model=str(tiny_model_dir), quantization="none"))
        torch.manual_seed(0)
        lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], lora_dropout=0.0, init_lora_weights=False)
        model = get_peft_model(loaded.model, lora)
        examples = [encode_example(loaded.tokenizer, d.prompt, d.text[:300]) for d in sample_demos[:4]]
        config = preset("quick").with_overrides(
            sft_max_steps=1, sft_warmup_ratio=0.0, sft_batch_size=4, micro_batch_size=micro, sft_optimizer="sgd"
        )
        train_sft(model, loaded.tokenizer, examples, config, "cpu", CancelToken(), lambda *_: False)
        adapters.append(get_peft_model_state_dict(model))
    whole, accumulated = adapters
    for name in whole:
        assert torch.allclose(whole[name], accumulated[name], atol=1e-5), name


# Qwen3's chat template, reduced to its switch: without enable_thinking=False the answer starts with a thought.
THINKING_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
)


def test_a_thinking_model_is_asked_to_answer_at_once(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = THINKING_TEMPLATE
    prompt = tokenizer.decode(encode_prompt(tokenizer, "Write a note"))
    assert prompt.endswith("assistant\n<think>\n\n</think>\n\n")  # the empty thought: write the answer now


# Gemma's chat template, reduced: an answer ends with <end_of_turn>, while its tokenizer's EOS is <eos>.
GEMMA_TEMPLATE = (
    "{% for m in messages %}<start_of_turn>{{ 'model' if m.role == 'assistant' else m.role }}\n"
    "{{ m.content }}<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def test_eos_is_the_token_that_ends_an_answer_in_the_chat_format(tiny_model_dir: Path) -> None:
    from ditto_desk.core.models.chat import end_answers_where_the_chat_format_does

    chatml = AutoTokenizer.from_pretrained(tiny_model_dir)
    before = chatml.eos_token
    end_answers_where_the_chat_format_does(chatml)
    assert chatml.eos_token == before == "<|im_end|>"  # SmolLM2's EOS ends its answers already
    gemma = AutoTokenizer.from_pretrained(tiny_model_dir)
    gemma.add_special_tokens({"additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"]})
    gemma.chat_template = GEMMA_TEMPLATE
    end_answers_where_the_chat_format_does(gemma)
    assert gemma.eos_token == "<end_of_turn>"
    assert encode_response(gemma, "See you Monday.")[-1] == gemma.convert_tokens_to_ids("<end_of_turn>")
