"""HTML / Markdown rendering of answers, sources, documents and quotes for the Gradio UI.

Hand-written because no library renders our Answer/Citation objects; Gradio only displays the strings.
Every string that comes from a document (titles, sources, passages, quotes, speakers, error messages
naming files) goes through ``html.escape`` here, so a ``<script>`` in a document is shown as text and
never runs. Answer text shown in the chat is additionally Markdown-escaped, because the chatbot renders
Markdown: a ``*`` or ``[link](...)`` quoted from a document must stay literal text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlparse

from rag.models import Answer, Citation

UNSUPPORTED_HINT = "not supported by the cited passage (automatic check)"
_MD_INLINE = re.compile(r"([\\`*_\[\]|~$])")
_MD_LINE_START = re.compile(r"(?m)^(\s*)(?:([#+\-=])|(\d+)([.)]))")


def esc(value: object) -> str:
    """HTML-escape anything shown in the page (quotes included, for attribute values)."""
    return html.escape("" if value is None else str(value), quote=True)


def escape_markdown(text: str) -> str:
    """Text for a Markdown-rendering component: HTML-escaped, Markdown syntax backslash-escaped."""
    escaped = _MD_INLINE.sub(r"\\\1", html.escape(text or "", quote=False))
    return _MD_LINE_START.sub(
        lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)), escaped
    )


def safe_link(source: str, label: str | None = None) -> str:
    """An <a> for http(s) sources only (never javascript: or data:), otherwise the escaped text."""
    text = esc(label if label is not None else source)
    parsed = urlparse(source or "")
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return f'<a href="{esc(source)}" target="_blank" rel="noopener noreferrer nofollow">{text}</a>'
    return text


def merge_spans(spans: Iterable[Sequence[int]], length: int) -> list[tuple[int, int]]:
    """Spans clipped to [0, length], sorted, overlapping/adjacent ones merged, empty ones dropped."""
    clipped = sorted((max(0, int(a)), min(length, int(b))) for a, b in spans)
    merged: list[tuple[int, int]] = []
    for a, b in clipped:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _wrap_ranges(
    text: str, ranges: Iterable[tuple[int, int]], escape: Callable[[str], str], wrap: Callable[[str], str]
) -> str:
    """`text` with each of the sorted, non-overlapping `ranges` passed through `wrap`, the rest through `escape`."""
    out, pos = [], 0
    for a, b in ranges:
        out.append(escape(text[pos:a]))
        out.append(wrap(text[a:b]))
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def highlight(text: str, spans: Iterable[Sequence[int]]) -> str:
    """The passage, escaped, with each span wrapped in <mark>."""
    return _wrap_ranges(text, merge_spans(spans, len(text)), esc, lambda part: f"<mark>{esc(part)}</mark>")


# -- chat --------------------------------------------------------------------------------------

def mode_line(answer: Answer) -> str:
    """Which mode answered, as plain text (no document-derived content)."""
    if answer.mode == "llm":
        who = f"LLM ({answer.model})" if answer.model else "LLM"
    elif answer.mode == "extractive":
        who = "offline extractive (quotes the sources, no LLM)"
    else:
        who = answer.mode
    parts = [f"Answered by: {who}"]
    if answer.abstained:
        parts.append("no answer found in the sources")
    n = len(answer.retrieved)
    parts.append(f"{n} passage{'' if n == 1 else 's'} searched")
    total = answer.timings_ms.get("total")
    if total is not None:
        parts.append(f"{total / 1000:.1f} s")
    return " · ".join(parts)


def unsupported_sentences(answer: Answer) -> list[dict]:
    """Verification entries whose sentence is not supported (neutral sentences never count)."""
    verification = answer.verification or {}
    return [s for s in verification.get("sentences", []) if not s.get("supported", True) and not s.get("neutral")]


def _flag_inline(answer_text: str, flagged: list[str]) -> str:
    """Escape the answer for Markdown, wrapping each flagged sentence found verbatim in a warning span."""
    ranges: list[tuple[int, int]] = []
    cursor = 0
    for sentence in flagged:
        if not sentence:
            continue
        at = answer_text.find(sentence, cursor)
        if at < 0:
            at = answer_text.find(sentence)
        if at >= 0 and not any(a < at + len(sentence) and at < b for a, b in ranges):
            ranges.append((at, at + len(sentence)))
            cursor = at + len(sentence)
    title = esc(UNSUPPORTED_HINT)
    return _wrap_ranges(answer_text, sorted(ranges), escape_markdown,
                        lambda part: f'<span class="unsupported" title="{title}">⚠ {escape_markdown(part)}</span>')


def answer_markdown(answer: Answer) -> str:
    """The chat message for a finished answer: text with [n] markers, flags, notice and mode line."""
    bad = unsupported_sentences(answer)
    body = _flag_inline(answer.answer, [s.get("text", "") for s in bad])
    lines = []
    if answer.notice:
        lines.append(f"> ⚠ {escape_markdown(answer.notice)}\n")
    lines.append(body)
    if bad:
        lines.append("")
        noun = "sentence is" if len(bad) == 1 else "sentences are"
        lines.append(f"**⚠ {len(bad)} {noun} {UNSUPPORTED_HINT}:**")
        for s in bad:
            lines.append(f"- “{escape_markdown(s.get('text', ''))}” (score {float(s.get('score', 0)):.2f})")
    if answer.verification and answer.verification.get("unverified_quotes"):
        lines.append("")
        lines.append("**⚠ Quotation(s) not found verbatim in the cited passages:** "
                     + "; ".join(f"“{escape_markdown(q)}”" for q in answer.verification["unverified_quotes"]))
    lines.append("")
    lines.append(f"<small class='mode-line'>{esc(mode_line(answer))}</small>")
    return "\n".join(lines)


def streaming_markdown(partial_text: str) -> str:
    """The chat message while the answer is still being written."""
    return escape_markdown(partial_text) + " ▌"


def status_html(answer: Answer) -> str:
    """The status line under the chat: mode, fallback notice, verification summary."""
    parts = [f'<span class="mode">{esc(mode_line(answer))}</span>']
    if answer.notice:
        parts.append(f'<span class="notice">⚠ {esc(answer.notice)}</span>')
    bad = unsupported_sentences(answer)
    if bad:
        parts.append(f'<span class="notice">⚠ {len(bad)} unsupported sentence(s) flagged in the answer</span>')
    elif answer.verification is not None:
        parts.append('<span class="ok">✓ every sentence is supported by its citation (automatic check)</span>')
    return f'<div class="status-line">{" ".join(parts)}</div>'


def error_markdown(message: str) -> str:
    return f"⚠ {escape_markdown(message)}"


# -- sources panel ------------------------------------------------------------------------------

def citation_card(c: Citation) -> str:
    meta = [safe_link(c.source)]
    if c.date:
        meta.append(esc(c.date))
    meta.append(f"score {c.score:.3f}")
    return (
        f'<div class="source-card" id="source-{int(c.n)}">'
        f'<div class="source-head"><span class="source-n">[{int(c.n)}]</span> '
        f'<span class="source-title">{esc(c.title or c.doc_id)}</span></div>'
        f'<div class="source-meta">{" · ".join(meta)}</div>'
        f'<blockquote class="source-passage">{highlight(c.text, c.quote_spans)}</blockquote>'
        "</div>"
    )


def sources_html(answer: Answer | None) -> str:
    if answer is None:
        return '<div class="sources-empty">Sources of the answer appear here.</div>'
    if not answer.citations:
        msg = ("No sources cited: the retrieved passages do not answer this question."
               if answer.abstained else "This answer cites no sources.")
        return f'<div class="sources-empty">{esc(msg)}</div>'
    return '<div class="sources">' + "".join(citation_card(c) for c in answer.citations) + "</div>"


def sources_message(message: str) -> str:
    return f'<div class="sources-empty">{esc(message)}</div>'


# -- library and quotes -------------------------------------------------------------------------

def ingest_report_markdown(report: dict, rejected: Sequence[tuple[str, str]] = ()) -> str:
    """An IngestReport.to_dict() (plus uploads rejected before ingesting) as a short Markdown summary."""
    lines = []
    counts = [f"{len(report.get(k, []))} {k}" for k in ("added", "updated", "unchanged") if report.get(k)]
    if counts:
        lines.append(f"✓ {', '.join(counts)}; wrote {report.get('chunks_written', 0)} chunks; "
                     f"the store holds {report.get('chunks_total', 0)} chunks.")
    errors = list(rejected) + [(e["source"], e["error"]) for e in report.get("errors", [])]
    for source, error in errors:
        lines.append(f"- ✗ **{escape_markdown(source)}**: {escape_markdown(error)}")
    if not lines:
        lines.append("Nothing to ingest.")
    return "\n".join(lines)


def quote_cards(records: Sequence, context_of=None) -> str:
    """Quotes (QuoteRecord-like: speaker, quote, title, source, sentence, kind, doc_id, start, end).

    ``context_of(record) -> (text, spans)`` gives the passage around the quote with the quote's spans
    in it; each card links to that passage (an expandable block) and to the source when it is a URL.
    """
    if not records:
        return '<div class="sources-empty">No quotes.</div>'
    cards = []
    for r in records:
        passage = ""
        if context_of is not None:
            text, spans = context_of(r)
            if text:
                passage = (f'<details class="quote-passage"><summary>show the passage in '
                           f'{esc(r.title or r.doc_id)}</summary><blockquote class="source-passage">'
                           f"{highlight(text, spans)}</blockquote></details>")
        kind = f' <span class="quote-kind">({esc(r.kind)})</span>' if getattr(r, "kind", "") else ""
        cards.append(
            '<div class="source-card quote-card">'
            f'<div class="source-head"><span class="source-title">{esc(r.speaker)}</span>{kind}</div>'
            f'<div class="quote-text">“{esc(r.quote)}”</div>'
            f'<div class="source-meta">{esc(r.title or r.doc_id)} · {safe_link(r.source)}</div>'
            f"{passage}</div>"
        )
    return '<div class="sources">' + "".join(cards) + "</div>"
