"""The document library behind the UI: check and store uploads, ingest files/URLs, delete documents.

Ingesting is ``ingest.pipeline.ingest`` (LlamaIndex IngestionPipeline); deleting is ``Store.delete_document``.
Hand-written here: the checks that give an uploader a clear reason before anything is written
(unsupported type, empty, binary, over ``settings.max_file_mb``) and the safe, content-addressed file
names under ``settings.uploads_dir`` (a crafted name such as ``../../x.md`` cannot leave that folder,
and an upload never overwrites a different earlier upload).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.pipeline import IngestReport, ingest
from ingest.sources import SUPPORTED_SUFFIXES, is_url
from ingest.storing import DocumentInfo

ProgressFn = Callable[[float, str], None]
_BINARY_SNIFF = 4096
_NAME_MAX = 80


class UploadRejected(ValueError):
    """An upload that will not be ingested; str() is the reason, in words the uploader can act on."""


@dataclass(frozen=True)
class LibraryResult:
    report: dict  # IngestReport.to_dict()
    rejected: list[tuple[str, str]]  # (name, reason) for uploads refused before ingesting


def safe_stem(name: str) -> str:
    """A file-name stem made only of [A-Za-z0-9._-], without any directory part or leading dots."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem = Path(base).stem if Path(base).suffix.lower() in SUPPORTED_SUFFIXES else base
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")
    return stem[:_NAME_MAX] or "upload"


def check_upload(path: Path, name: str, max_file_mb: float) -> str:
    """The lower-case suffix of an acceptable upload; raises UploadRejected with the reason otherwise."""
    suffix = Path(re.split(r"[\\/]", name or "")[-1]).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRejected(
            f"unsupported file type {suffix or '(no extension)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UploadRejected(f"the upload could not be read ({exc.strerror})") from exc
    if size > max_file_mb * 1e6:
        raise UploadRejected(f"file is {size / 1e6:.3g} MB, over the {max_file_mb:g} MB limit")
    with path.open("rb") as fh:
        head = fh.read(_BINARY_SNIFF)
    if not head.strip():
        raise UploadRejected("file is empty")
    if suffix == ".pdf":
        if not head.startswith(b"%PDF"):
            raise UploadRejected("file ends in .pdf but is not a PDF")
    elif b"\x00" in head:
        raise UploadRejected("looks like a binary file, not text")
    return suffix


def store_upload(path: Path, name: str, uploads_dir: Path, max_file_mb: float) -> Path:
    """Check an uploaded file and copy it to ``uploads_dir/<safe stem>-<content hash><suffix>``."""
    suffix = check_upload(path, name, max_file_mb)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    root = uploads_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = (root / f"{safe_stem(name)}-{digest.hexdigest()[:12]}{suffix}").resolve()
    if target.parent != root:  # cannot happen with safe_stem; kept as a guard
        raise UploadRejected("unsafe file name")
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


class Library:
    """Documents of one engine's store. Callers serialise changes (the UI runs them one at a time)."""

    def __init__(self, engine, on_change: Callable[[], None] | None = None):
        self.engine = engine
        self.settings = engine.settings
        self.on_change = on_change or engine.invalidate

    def documents(self) -> list[DocumentInfo]:
        return self.engine.store.documents()

    def _ingest(self, inputs: list[str], on_progress: ProgressFn | None) -> IngestReport:
        report = ingest(inputs, self.settings, store=self.engine.store, show_progress=False, on_progress=on_progress)
        if report.added or report.updated:
            self.on_change()
        return report

    def add_files(self, files: list[tuple[Path, str]], on_progress: ProgressFn | None = None) -> LibraryResult:
        """Ingest uploaded files given as (temporary path, original name)."""
        rejected: list[tuple[str, str]] = []
        stored: list[str] = []
        for path, name in files:
            try:
                stored.append(str(store_upload(Path(path), name, self.settings.uploads_dir, self.settings.max_file_mb)))
            except UploadRejected as exc:
                rejected.append((re.split(r"[\\/]", name or "")[-1] or "upload", str(exc)))
        report = self._ingest(stored, on_progress) if stored else IngestReport()
        return LibraryResult(report.to_dict(), rejected)

    def add_url(self, url: str, on_progress: ProgressFn | None = None) -> LibraryResult:
        url = (url or "").strip()
        if not is_url(url):
            return LibraryResult(IngestReport().to_dict(), [(url or "(empty)", "enter an http:// or https:// URL")])
        return LibraryResult(self._ingest([url], on_progress).to_dict(), [])

    def delete(self, doc_id: str) -> DocumentInfo | None:
        """Remove a document's chunks (Chroma) and text (docstore); its stored upload file too."""
        info = next((d for d in self.documents() if d.doc_id == doc_id), None)
        if info is None:
            return None
        self.engine.store.delete_document(doc_id)
        self.on_change()
        if info.source and not is_url(info.source):
            source = Path(info.source).resolve()
            if source.parent == self.settings.uploads_dir.resolve() and source.is_file():
                source.unlink()
        return info
