"""Score a question file (the format of shared/eval/dev.jsonl) against the running pipeline."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.models import Answer
from rag.question_file import read_records

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "‚": "'", "‛": "'"})


def norm(text: str) -> str:
    return " ".join(text.translate(_QUOTES).casefold().split())


@dataclass
class EvalItem:
    id: str
    question: str
    turns: list[str]
    answerable: bool
    evidence: list[str]
    must: list[list[str]]
    category: str = ""


def read_items(path: Path) -> list[EvalItem]:
    items = []
    for i, raw, problem in read_records(path):
        if problem:
            raise ValueError(f"{path}: {problem}")
        turns = raw["turns"]
        items.append(EvalItem(
            id=str(raw.get("id", i)), question=turns[-1], turns=turns,
            answerable=bool(raw.get("answerable", True)), evidence=list(raw.get("evidence", [])),
            must=[list(g) for g in raw.get("must", [])], category=raw.get("category", ""),
        ))
    return items


def evidence_rank(item: EvalItem, answer: Answer, k: int = 5) -> int | None:
    """1-based rank of the first retrieved passage holding an evidence string, within top k."""
    wanted = [norm(e) for e in item.evidence]
    for rank, passage in enumerate(answer.retrieved[:k], 1):
        text = norm(passage.text)
        if any(w in text for w in wanted):
            return rank
    return None


def answer_correct(item: EvalItem, answer: Answer) -> bool:
    if answer.abstained:
        return False
    text = norm(answer.answer)
    if not all(any(norm(kw) in text for kw in group) for group in item.must):
        return False
    if not item.evidence:
        return True
    cited = [norm(c.text) for c in answer.citations]
    return any(norm(e) in c for e in item.evidence for c in cited)


@dataclass
class EvalReport:
    rows: list[dict] = field(default_factory=list)
    metrics: dict[str, float | int | None] = field(default_factory=dict)

    def table(self) -> str:
        lines = [f"{'id':<6} {'cat':<12} {'rank':>4} {'ok':>3} {'abst':>4} {'ms':>7}  question"]
        for r in self.rows:
            lines.append(
                f"{r['id']:<6} {r['category'][:12]:<12} {r['rank'] or '-':>4} {'Y' if r['correct'] else 'n':>3} "
                f"{'Y' if r['abstained'] else 'n':>4} {r['ms']:>7.1f}  {r['question'][:70]}"
            )
        lines.append("")
        for key, value in self.metrics.items():
            lines.append(f"{key:<22} {value if not isinstance(value, float) else round(value, 3)}")
        return "\n".join(lines)


def percentile(values: list[float], q: float) -> float | None:
    """Inclusive percentile (statistics.quantiles); the one definition used by eval and the benchmarks."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def evaluate(items: list[EvalItem], ask: Callable[[str, list[str]], Answer], k: int = 5) -> EvalReport:
    report = EvalReport()
    recalls, rrs, correct, abstain_ok, latencies = [], [], [], [], []
    for item in items:
        answer = ask(item.question, item.turns[:-1])
        latencies.append(answer.timings_ms.get("total", 0.0))
        rank = evidence_rank(item, answer, k) if item.answerable else None
        ok = answer_correct(item, answer) if item.answerable else answer.abstained
        if item.answerable:
            recalls.append(1.0 if rank else 0.0)
            rrs.append(1.0 / rank if rank else 0.0)
            correct.append(1.0 if ok else 0.0)
        else:
            abstain_ok.append(1.0 if answer.abstained else 0.0)
        report.rows.append({
            "id": item.id, "category": item.category, "question": item.question, "answerable": item.answerable,
            "rank": rank, "correct": ok, "abstained": answer.abstained, "answer": answer.answer,
            "ms": answer.timings_ms.get("total", 0.0), "mode": answer.mode,
        })
    mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
    report.metrics = {
        "items": len(items),
        f"recall@{k}": mean(recalls),
        "mrr": mean(rrs),
        "answer_accuracy": mean(correct),
        "abstention_accuracy": mean(abstain_ok),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }
    return report
