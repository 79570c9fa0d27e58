"""Does a draft answer its message? A draft answers the message it was written for when, of all the held-out
messages, that one is the most similar to it (cosine similarity of TF-IDF word vectors, English stop words
dropped, fitted on the messages). Chance is one in the number of messages: a draft that ignores its message
is as close to any other. The authors' real replies are measured the same way, as the bar a draft can reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Relevance:
    answers: float  # share of texts whose own message ranks first
    reciprocal_rank: float  # mean of 1 / that rank
    texts: int
    messages: int

    def to_json(self) -> dict[str, float | int]:
        return {
            "answers": self.answers,
            "reciprocal_rank": self.reciprocal_rank,
            "texts": self.texts,
            "messages": self.messages,
        }


def relevance(texts: Sequence[str], own: Sequence[int], messages: Sequence[str]) -> Relevance:
    """How often each of ``texts`` is closest to its own message ``messages[own[i]]`` among all ``messages``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    if not texts or len(messages) < 2:
        return Relevance(float("nan"), float("nan"), len(texts), len(messages))
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(messages)
    similarity = cosine_similarity(vectorizer.transform(texts), vectorizer.transform(messages))
    # A tie counts against the draft: one that shares no word with any message ranks last, not first.
    ranks = [int((row >= row[index]).sum()) for row, index in zip(similarity, own, strict=True)]
    return Relevance(
        answers=sum(rank == 1 for rank in ranks) / len(ranks),
        reciprocal_rank=sum(1 / rank for rank in ranks) / len(ranks),
        texts=len(texts),
        messages=len(messages),
    )
