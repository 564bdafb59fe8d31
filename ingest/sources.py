"""Expand what the user passed (files, folders, URLs) into a sorted list of sources."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
SIDECAR_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class Source:
    location: str  # a file path as given/found, or an http(s) URL

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _walk(folder: Path, problems: list[tuple[str, str]]) -> list[Path]:
    found: list[Path] = []

    def on_error(err: OSError) -> None:
        problems.append((str(err.filename or folder), f"cannot read folder ({err.strerror})"))

    for root, dirs, files in os.walk(folder, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                continue
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(path)
    return found


def expand_inputs(inputs: list[str]) -> tuple[list[Source], list[tuple[str, str]]]:
    """Sources to load plus (input, problem) pairs for inputs that cannot be used at all."""
    sources: list[Source] = []
    problems: list[tuple[str, str]] = []
    for raw in inputs:
        item = raw.strip()
        if is_url(item):
            sources.append(Source(item))
            continue
        path = Path(item)
        if not path.exists():
            problems.append((item, "no such file or folder"))
        elif path.is_dir():
            files = _walk(path, problems)
            if not files:
                problems.append((item, f"folder holds no supported files ({', '.join(sorted(SUPPORTED_SUFFIXES))})"))
            sources.extend(Source(str(p)) for p in files)
        else:
            sources.append(Source(str(path)))
    unique = list(dict.fromkeys(sources))
    return unique, problems
