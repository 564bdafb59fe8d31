"""Deterministic distractor documents for the scale benchmark (hand-written; no library generates these).

Each distractor is a news-like text: a title line and paragraphs of sentences whose words are drawn from
the real corpus vocabulary (weighted by corpus frequency, so "Kremlin", "Iran", "said" are common) mixed
with generated filler words and names, with some sentences in a quoted-speech shape ('"…," X said.').
Document i depends only on (seed, i), so the first 1,000 distractors of a 10k run are the 1k run's.

No title or paragraph of a distractor contains any word 4-gram of the real corpus, so a distractor can
never hold the verbatim evidence of a real article: recall on the dev set measures ranking, not copies.

    .venv/bin/python -m bench.synthetic --docs 5 --out bench/out/sample   # write a few to look at
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import re
from collections import Counter
from pathlib import Path

from bench.common import CORPUS

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")
_SYLLABLES = (
    "ka ri to ma ne so lu vi de ran tal mor ben sha kor zel pin dra vos ter lin gor mes fa ul "
    "bra cen dor eth gan hol im jor kes lam nor ost pre quin rus sel tov ur vel wen yar zo"
).split()
_SAID = ("said", "told reporters", "said on Tuesday", "added", "wrote in a statement", "told a briefing")
_NGRAM = 4


def corpus_texts(folder: Path = CORPUS) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())
            if p.suffix in {".txt", ".md"} and not p.name.endswith(".meta.json")]


def _grams(words: list[str]) -> set[tuple[str, ...]]:
    low = [w.lower() for w in words]
    return {tuple(low[i : i + _NGRAM]) for i in range(len(low) - _NGRAM + 1)}


class DistractorGenerator:
    def __init__(self, texts: list[str] | None = None, seed: int = 2024, filler_words: int = 6000):
        texts = corpus_texts() if texts is None else texts
        words = [w for t in texts for w in _WORD.findall(t)]
        if not words:
            raise ValueError("the corpus has no words to build distractors from")
        self.seed = seed
        self.forbidden = set().union(*(_grams(_WORD.findall(t)) for t in texts))
        counts = Counter(words)
        self.vocab = list(counts)
        self.vocab_cum = list(itertools.accumulate(counts[w] for w in self.vocab))
        rng = random.Random(f"{seed}:lexicon")
        filler = {self._pseudo_word(rng) for _ in range(filler_words)}
        self.filler = sorted(filler)
        rng.shuffle(self.filler)  # the Zipf rank of a filler word must not follow the alphabet
        # Zipf-like weights: a few filler words are common, most are rare (as in real text).
        self.filler_cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(self.filler))))
        names = [w for w in counts if w[0].isupper() and len(w) > 3]
        self.names = names + [f"{self._pseudo_word(rng).title()} {self._pseudo_word(rng).title()}"
                              for _ in range(300)]

    @staticmethod
    def _pseudo_word(rng: random.Random) -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 4))))

    def _words(self, rng: random.Random, n: int) -> list[str]:
        out = []
        for _ in range(n):
            if rng.random() < 0.65:
                i = bisect.bisect_left(self.vocab_cum, rng.random() * self.vocab_cum[-1])
                out.append(self.vocab[i])
            else:
                i = bisect.bisect_left(self.filler_cum, rng.random() * self.filler_cum[-1])
                out.append(self.filler[i])
        return out

    def _clause(self, rng: random.Random, lo: int, hi: int) -> list[str]:
        for _ in range(50):
            words = self._words(rng, rng.randint(lo, hi))
            if not _grams(words) & self.forbidden:
                return words
        return [self.filler[rng.randrange(len(self.filler))] for _ in range(lo)]

    def sentence(self, rng: random.Random) -> str:
        words = self._clause(rng, 10, 24)
        words[0] = words[0][:1].upper() + words[0][1:]
        if rng.random() < 0.25:
            return f"“{' '.join(words)},” {rng.choice(self.names)} {rng.choice(_SAID)}."
        return " ".join(words) + "."

    def _paragraph(self, rng: random.Random) -> str:
        for _ in range(50):  # a 4-gram can also form across the quote/attribution or sentence seams
            text = " ".join(self.sentence(rng) for _ in range(rng.randint(2, 4)))
            if not self.shares_corpus_ngram(text):
                return text
        raise RuntimeError("could not build a paragraph free of corpus 4-grams")

    def shares_corpus_ngram(self, text: str) -> bool:
        return bool(_grams(_WORD.findall(text)) & self.forbidden)

    def document(self, i: int) -> str:
        rng = random.Random(f"{self.seed}:doc:{i}")
        title = " ".join(w[:1].upper() + w[1:] for w in self._clause(rng, 5, 9))
        paragraphs = [self._paragraph(rng) for _ in range(rng.randint(4, 7))]
        return title + "\n\n" + "\n\n".join(paragraphs) + "\n"

    def write(self, folder: Path, count: int, start: int = 0) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(start, start + count):
            path = folder / f"distractor-{i:06d}.txt"
            path.write_text(self.document(i), encoding="utf-8")
            paths.append(path)
        return paths


def chunks_per_document(gen: DistractorGenerator, settings, sample: int = 40) -> float:
    """Mean number of chunks the project's splitter makes of a distractor (to size a run)."""
    from llama_index.core import Document

    from ingest.chunking import make_splitter
    from ingest.cleaning import clean_text

    splitter = make_splitter(settings)
    docs = [Document(text=clean_text(gen.document(i)), id_=f"sample-{i}") for i in range(sample)]
    return len(splitter.get_nodes_from_documents(docs)) / sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=Path("bench/out/sample"))
    args = parser.parse_args(argv)
    paths = DistractorGenerator(seed=args.seed).write(args.out, args.docs)
    print(f"wrote {len(paths)} distractors to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
