"""Long texts become segments that fit: paragraph cuts, each with a request, EOS only at the true end."""

from __future__ import annotations

import pytest

from ditto_desk.core.training.segments import encode_demonstrations, split_text


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def paragraph(n: int, words: int = 40) -> str:
    return " ".join(f"para{n}word{i}" for i in range(words)) + "."


def test_a_short_text_is_one_piece(tokenizer) -> None:
    assert split_text(tokenizer, "A short note.\n\nSee you.", 100) == ["A short note.\n\nSee you."]


def test_a_long_text_is_cut_at_paragraph_ends_and_joins_back_exactly(tokenizer) -> None:
    text = "\n\n".join(paragraph(n) for n in range(6))
    pieces = split_text(tokenizer, text, 200)
    assert len(pieces) > 1 and "".join(pieces) == text
    for piece in pieces:
        assert len(tokenizer(piece, add_special_tokens=False)["input_ids"]) <= 200
        assert piece.rstrip().endswith(".")  # whole paragraphs only


def test_a_paragraph_too_long_alone_is_cut_at_sentence_ends_then_words(tokenizer) -> None:
    sentences = " ".join(f"Sentence {i} says a few more words here." for i in range(60))
    pieces = split_text(tokenizer, sentences, 50)
    assert "".join(pieces) == sentences and all(p.rstrip().endswith(".") for p in pieces)
    blob = "x" * 3000  # no sentence, no space: cut between tokens is all that is left
    assert "".join(split_text(tokenizer, blob, 50)) == blob


def test_segments_keep_the_request_and_only_the_last_has_eos(tokenizer) -> None:
    long = "\n\n".join(paragraph(n) for n in range(6))
    examples = encode_demonstrations(tokenizer, ["Write an email about: A", "Write a note"], [long, "Short."], 200, 384)
    parts = [(e.demo_index, e.part) for e in examples]
    assert parts[0] == (0, 0) and parts[-1] == (1, 0) and len(examples) > 2
    eos = tokenizer.eos_token_id
    for e in examples:
        last = e is examples[-1] or examples[examples.index(e) + 1].demo_index != e.demo_index
        assert (e.response_ids[-1] == eos) == last
        assert e.encoded.length <= 384
        request = tokenizer.decode(e.prompt_ids)
        assert ("Write an email about: A" if e.demo_index == 0 else "Write a note") in request
        if e.part > 0:  # a later segment quotes the end of the one before it
            assert "Continue the text from" in request and f"para{e.part - 1}word" in request
    # Together the segments hold the whole text.
    first_text = [tokenizer.decode([t for t in e.response_ids if t != eos]) for e in examples if e.demo_index == 0]
    assert " ".join(first_text).split() == long.split()
