"""What a reader sees: junk, repetition and the judge's view of signatures and reply headers."""

from __future__ import annotations

from ditto_desk.core.evaluation.readability import (
    distinct_bigrams,
    for_the_judge,
    junk_reasons,
    readability,
    reads_like_an_end,
)

CLEAN = "Hi all,\n\nThe release slipped a day, sorry. We ship on Friday -- the docs are nearly done.\n\nAnn"


def test_a_plain_email_is_not_junk() -> None:
    assert junk_reasons(CLEAN) == []
    assert junk_reasons("See http://freshrpms.net/builds/ for the list... and yes, I accept patches!") == []


def test_each_kind_of_junk_is_named() -> None:
    assert junk_reasons("We ship <br><b>Friday</b> then") == ["markup"]
    assert junk_reasons("We ship ###$$$ Friday") == ["symbol runs"]
    assert junk_reasons("We ship.\nFrom: Bob Smith\nSubject: ship") == ["header fragments"]
    assert junk_reasons("Thanks,\n[Your Name]") == ["placeholders"]


def test_repetition_lowers_distinct_bigrams() -> None:
    assert distinct_bigrams("one two three four five") == 1.0
    assert distinct_bigrams("go team " * 20) < 0.1


def test_the_judge_sees_neither_signature_nor_reply_header() -> None:
    draft = f"{CLEAN}\n\n-- \nAnn Smith | Release Manager\n"
    reply = f"{CLEAN}\n\nOn Tue, 4 Mar 2025, Bob <bob@example.com> wrote:\n> When?\n"
    headers = f"Subject: Release\nFrom: Ann\n{CLEAN}"
    assert for_the_judge(draft) == for_the_judge(reply) == CLEAN
    assert for_the_judge(headers) == CLEAN


def test_readability_figures_of_a_set() -> None:
    figures = readability([CLEAN, "x <p> y " * 3], ended=[True, False])
    assert figures["ended_share"] == 0.5 and figures["junk_share"] == 0.5
    assert figures["clean_end_share"] == 0.5  # the draft cut at the cap did not end anywhere
    assert readability([CLEAN])["ended_share"] is None and readability([CLEAN])["clean_end_share"] == 1.0


def test_a_text_that_stops_inside_a_sentence_does_not_read_ended() -> None:
    assert reads_like_an_end(CLEAN)  # a name on its own line
    assert reads_like_an_end("We ship on Friday.") and reads_like_an_end("Does that work? :)")
    assert reads_like_an_end("Thanks,\nAnn Smith\n") and reads_like_an_end("See you there! 🎉 #Release")
    assert reads_like_an_end("He said “we ship on Friday”") and reads_like_an_end("I'd say so ;-D")
    assert reads_like_an_end("it would really improve things, thanks for the help :(")
    assert not reads_like_an_end("The paper clip project started because their size required much less")
    assert not reads_like_an_end("We tried three things, for example,")
    assert not reads_like_an_end("")
