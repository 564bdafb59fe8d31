"""Reading question files (JSONL): `{"question": ...}` or `{"turns": [q1, q2, ...]}` per line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def read_records(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record, problem) for every non-blank line; problem is None when the line is usable."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            yield i, None, f"line {i}: not valid JSON ({exc.msg})"
            continue
        turns = turns_of(raw)
        if turns is None:
            yield i, None, f"line {i}: needs a non-empty \"question\" or \"turns\""
            continue
        yield i, {**raw, "turns": turns}, None


def turns_of(raw: object) -> list[str] | None:
    """The conversation of a record (the last turn is the question), or None when it has none."""
    if not isinstance(raw, dict):
        return None
    turns = raw.get("turns") or ([raw["question"]] if "question" in raw else None)
    if not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        return None
    return list(turns)
