"""Precision/recall of (speaker, quote) pairs from rag.quotes vs hand-labelled gold.

Usage: .venv/bin/python -m bench.quote_attribution [--gold tests/data/quotes/gold.json] [--verbose]

A system pair counts only if it has a speaker; it is correct when the normalised
speaker (case/accents/"the"/honorifics ignored) and the normalised quote text
(whitespace collapsed, re-opening marks of split quotes dropped, edge
punctuation stripped) both equal a gold pair. Terms are scored separately:
a gold term is recovered when the extractor reports it with speaker None.
"Nested leaks" counts nested quotes reported as quotes of their own (must be 0).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.quotes import Quote, extract_quotes

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = ROOT / "tests" / "data" / "quotes" / "gold.json"
_HONORIFICS = {"the", "mr", "mrs", "ms", "dr", "sir", "miss"}


def norm_quote(q: str) -> str:
    q = re.sub(r"\s*\n\s*[“‘\"']", " ", q)
    return re.sub(r"\s+", " ", q).strip(" ,.;:!?").lower()


def norm_speaker(s: str) -> str:
    words = re.findall(r"[\w\-]+", s.lower())
    return " ".join(w for w in words if w not in _HONORIFICS)


@dataclass
class DocScore:
    path: str
    split: str
    gold: int
    system: int
    correct: int
    kind_ok: int
    terms_gold: int
    terms_ok: int
    nested_leaks: int
    errors: list[str]

    @property
    def precision(self) -> float:
        return self.correct / self.system if self.system else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0


def score_document(doc: dict, root: Path = ROOT) -> DocScore:
    text = (root / doc["path"]).read_text(encoding="utf-8")
    quotes: list[Quote] = extract_quotes(text)
    gold = {(norm_speaker(g["speaker"]), norm_quote(g["quote"])): g["kind"] for g in doc["quotes"]}
    system = {(norm_speaker(q.speaker), norm_quote(q.quote)): q.kind for q in quotes if q.speaker}
    correct = set(gold) & set(system)
    unattributed = {norm_quote(q.quote) for q in quotes if q.speaker is None}
    all_quotes = {norm_quote(q.quote) for q in quotes}
    errors = [f"  wrong/extra: {s!r} <- {q[:60]!r}" for s, q in sorted(set(system) - correct)]
    errors += [f"  missed:      {s!r} <- {q[:60]!r}" for s, q in sorted(set(gold) - correct)]
    return DocScore(
        path=doc["path"],
        split=doc.get("split", "dev"),
        gold=len(gold),
        system=len(system),
        correct=len(correct),
        kind_ok=sum(gold[k] == system[k] for k in correct),
        terms_gold=len(doc["terms"]),
        terms_ok=sum(norm_quote(t) in unattributed for t in doc["terms"]),
        nested_leaks=sum(norm_quote(n) in all_quotes for n in doc["nested"]),
        errors=errors,
    )


def evaluate(gold_path: Path = DEFAULT_GOLD) -> list[DocScore]:
    data = json.loads(Path(gold_path).read_text(encoding="utf-8"))
    return [score_document(d) for d in data["documents"]]


def _total(name: str, scores: list[DocScore]) -> DocScore:
    return DocScore(
        name, "", *(sum(getattr(s, f) for s in scores) for f in
                    ("gold", "system", "correct", "kind_ok", "terms_gold", "terms_ok", "nested_leaks")), [],
    )


def render(scores: list[DocScore], verbose: bool = False) -> str:
    head = f"{'document':<40} {'split':<8} {'gold':>4} {'sys':>4} {'ok':>4} {'P':>6} {'R':>6} {'kind':>5} {'terms':>6} {'nest':>4}"
    lines = [head, "-" * len(head)]

    def row(s: DocScore) -> str:
        return (
            f"{Path(s.path).name if '/' in s.path else s.path:<40} {s.split:<8} {s.gold:>4} {s.system:>4} "
            f"{s.correct:>4} {s.precision:>6.2f} {s.recall:>6.2f} {s.kind_ok:>2}/{s.correct:<2} "
            f"{s.terms_ok:>2}/{s.terms_gold:<3} {s.nested_leaks:>4}"
        )

    for s in scores:
        lines.append(row(s))
        if verbose:
            lines.extend(s.errors)
    lines.append("-" * len(head))
    for split in ("dev", "heldout"):
        part = [s for s in scores if s.split == split]
        if part:
            lines.append(row(_total(f"TOTAL {split}", part)))
    lines.append(row(_total("TOTAL all", scores)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--verbose", "-v", action="store_true", help="list wrong and missed pairs")
    args = ap.parse_args(argv)
    print(render(evaluate(args.gold), verbose=args.verbose))


if __name__ == "__main__":
    main()
