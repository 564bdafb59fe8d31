"""Shared helpers of the benchmarks: paths, machine description, timing, percentiles, disk size.

Hand-written plumbing only; the measured code is the project's own (ingest.pipeline, rag.engine).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from rag.evaluation import percentile  # noqa: F401  (re-exported for the bench scripts)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DOCS = ROOT / "docs"
SEED = ROOT / "corpus" / "kremlin-iran-cnbc-2024-10.txt"
CORPUS = ROOT / "corpus"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def bench_settings(data_dir: Path, **overrides):
    """Project settings for a benchmark store: defaults only, no .env, no LLM (extractive answers)."""
    from rag.config import Settings

    return Settings(data_dir=data_dir, _env_file=None, answer_mode="extractive", **overrides)


def copy_seed(dest: Path) -> Path:
    """The seed article and its metadata sidecar copied into dest; returns the article's path."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, dest / SEED.name)
    sidecar = SEED.with_name(SEED.name + ".meta.json")
    if sidecar.exists():
        shutil.copy(sidecar, dest / sidecar.name)
    return dest / SEED.name


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


@contextmanager
def stopwatch(into: dict, key: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        into[key] = into.get(key, 0.0) + (time.perf_counter() - t0)


def timed(fn: Callable, *args, **kwargs) -> tuple[object, float]:
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                pass
    return total


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine() -> dict:
    """nproc, RAM, CPU model, Python/torch/library versions, date — written next to every result."""
    info: dict[str, object] = {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        import chromadb
        import llama_index.core
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["chromadb"] = chromadb.__version__
        info["llama_index_core"] = llama_index.core.__version__
    except ImportError:
        pass
    info["load_average"] = load_average()
    return info


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return path


def fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
