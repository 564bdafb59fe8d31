"""Load one source (txt, md, html, pdf file or http(s) URL) into a LlamaIndex Document.

The document id is derived from the source location and the document hash from its cleaned text plus
stable metadata, so re-ingesting an unchanged source is recognised and a changed one replaces the old.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
from pathlib import Path

import httpx
from llama_index.core import Document

from ingest.cleaning import clean_text
from ingest.errors import IngestError
from ingest.sources import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES, Source

METADATA_KEYS = ("title", "publisher", "date", "kind", "source_url")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_BINARY_SNIFF = 4096
# A trailing list of sources/references: kept as metadata, not indexed as article text.
_REFERENCES = re.compile(
    r"\n#{0,6}\s*(sources|references|external links|further reading)\s*:?\s*\n(?P<body>(?:\s*[-*\d.]*\s*\S.*\n?)+)\Z",
    re.IGNORECASE,
)


def doc_id_for(location: str) -> str:
    key = location if location.startswith(("http://", "https://")) else Path(location).as_posix()
    return "doc-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _decode_text(data: bytes, where: str) -> str:
    if b"\x00" in data[:_BINARY_SNIFF]:
        raise IngestError(where, "looks like a binary file, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(where, "text is not valid UTF-8")


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in METADATA_KEYS:
            meta[key.strip()] = value.strip().strip("\"'")
    return meta, text[match.end():]


def _pdf_text(data: bytes, where: str) -> tuple[str, dict[str, str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(where, f"malformed PDF ({exc.__class__.__name__}: {exc})") from exc
    title = str(info.get("/Title") or "").strip()
    return "\n\n".join(pages), ({"title": title} if title else {})


def _html_text(html: str, where: str) -> tuple[str, dict[str, str]]:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True)
    meta: dict[str, str] = {}
    info = trafilatura.extract_metadata(html)
    if info is not None:
        if info.title:
            meta["title"] = info.title
        if info.date:
            meta["date"] = info.date
        if info.sitename:
            meta["publisher"] = info.sitename
    if not text:
        raise IngestError(where, "no readable article text found in the HTML")
    return text, meta


def _extract(data: bytes, kind: str, where: str) -> tuple[str, dict[str, str]]:
    if kind == "pdf":
        return _pdf_text(data, where)
    text = _decode_text(data, where)
    if kind == "html":
        return _html_text(text, where)
    meta, body = _split_front_matter(text)
    return body, meta


def _kind_from_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(str(path), f"unsupported file type {suffix or '(none)'}; "
                          f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    return {".pdf": "pdf", ".html": "html", ".htm": "html"}.get(suffix, "text")


def _kind_from_content_type(content_type: str, url: str) -> str:
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/pdf" or url.lower().endswith(".pdf"):
        return "pdf"
    if ctype in ("text/html", "application/xhtml+xml") or not ctype:
        return "html"
    if ctype.startswith("text/"):
        return "text"
    raise IngestError(url, f"unsupported content type {ctype}")


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        if path.is_symlink() and not path.exists():
            raise IngestError(str(path), "broken symbolic link (its target does not exist)")
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IngestError(str(path), "is a folder")
        if not stat.S_ISREG(info.st_mode):  # reading a FIFO or a device would block or never end
            raise IngestError(str(path), "not a regular file (a pipe, socket or device)")
        size = info.st_size
        if size > max_bytes:
            raise IngestError(str(path), f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # bounded even if the file grows after stat()
        if len(data) > max_bytes:
            raise IngestError(str(path), f"file is over the {max_bytes / 1e6:.1f} MB limit")
        return data
    except PermissionError as exc:
        raise IngestError(str(path), "permission denied") from exc
    except IsADirectoryError as exc:
        raise IngestError(str(path), "is a folder") from exc
    except OSError as exc:
        raise IngestError(str(path), f"cannot read file ({exc.strerror})") from exc


def _fetch_url(url: str, timeout: float, max_bytes: int) -> tuple[bytes, str]:
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            with client.stream("GET", url, headers={"User-Agent": "news-rag/0.1"}) as response:
                if response.status_code >= 400:
                    raise IngestError(url, f"HTTP {response.status_code} {response.reason_phrase}")
                chunks, total = [], 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise IngestError(url, f"response is over the {max_bytes / 1e6:.1f} MB limit")
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("content-type", "")
    except httpx.TimeoutException as exc:
        raise IngestError(url, f"timed out after {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise IngestError(url, f"could not fetch ({exc.__class__.__name__}: {exc})") from exc


def _sidecar_metadata(path: Path) -> dict[str, str]:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IngestError(str(sidecar), f"unreadable metadata sidecar ({exc})") from exc
    return {k: str(v) for k, v in data.items() if k in METADATA_KEYS and v not in (None, "")}


def split_references(text: str) -> tuple[str, list[str]]:
    """Split a trailing "Sources"/"References" list off the text; returns (text, URLs listed)."""
    match = _REFERENCES.search(text)
    if not match:
        return text, []
    urls = re.findall(r"https?://\S+", match.group("body"))
    return (text[: match.start()], urls) if urls else (text, [])


def _default_title(text: str, fallback: str) -> str:
    first = next((line.strip("# ").strip() for line in text.splitlines() if line.strip()), "")
    return first[:120] if 0 < len(first) <= 120 else fallback


def load_source(source: Source, max_bytes: int, url_timeout: float) -> Document:
    """Load, clean and describe one source; raises IngestError with a clear reason."""
    where = source.location
    if source.is_url:
        data, content_type = _fetch_url(where, url_timeout, max_bytes)
        raw, meta = _extract(data, _kind_from_content_type(content_type, where), where)
        meta.setdefault("source_url", where)
        fallback_title = where
    else:
        path = Path(where)
        kind = _kind_from_suffix(path)
        data = _read_file(path, max_bytes)
        if not data.strip():
            raise IngestError(where, "file is empty")
        raw, meta = _extract(data, kind, where)
        meta = {**meta, **_sidecar_metadata(path)}
        fallback_title = path.stem.replace("-", " ").replace("_", " ")
    text, references = split_references(clean_text(raw))
    text = text.strip()
    if not text:
        raise IngestError(where, "no text left after extraction and cleaning")
    metadata = {
        "title": meta.get("title") or _default_title(text, fallback_title),
        "source": where,
        "date": meta.get("date", ""),
        "kind": meta.get("kind", "document"),
        "publisher": meta.get("publisher", ""),
        "references": " ".join(references),
    }
    hidden = list(metadata)
    return Document(
        id_=doc_id_for(where),
        text=text,
        metadata=metadata,
        excluded_embed_metadata_keys=[k for k in hidden if k != "title"],
        excluded_llm_metadata_keys=hidden,
    )


