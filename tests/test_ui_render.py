"""Rendering of answers, sources, library reports and quotes (rag/ui_render.py): pure functions, no models."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.models import Answer, Citation, Passage
from rag.ui_render import (
    answer_markdown,
    citation_card,
    escape_markdown,
    highlight,
    ingest_report_markdown,
    merge_spans,
    mode_line,
    quote_cards,
    safe_link,
    sources_html,
    status_html,
    streaming_markdown,
)

HOSTILE = 'Mayor <script>window.__pwned=1</script> said "hi" & <img src=x onerror=alert(1)> left.'


def citation(**kw) -> Citation:
    base = dict(
        n=1, doc_id="doc-1", title="Kremlin says it won't abandon Iran", source="corpus/kremlin.txt",
        text="First sentence here. Peskov said they will deepen ties. Last one.", quote="Peskov said they will deepen ties.",
        start=0, end=66, score=0.8771, date="2024-10-22", quote_spans=[(21, 55)],
    )
    base.update(kw)
    return Citation(**base)


def answer(**kw) -> Answer:
    base = dict(question="What did Peskov say?", answer="Peskov said they will deepen ties. [1]", abstained=False,
                mode="extractive", citations=[citation()], retrieved=[Passage("n1", "doc-1", "t", 0.1)] * 3,
                timings_ms={"total": 1234.0})
    base.update(kw)
    return Answer(**base)


def test_highlight_marks_the_cited_span_and_escapes_everything():
    text = "A <b>bold</b> claim. The cited <i>part</i>. Tail & more."
    start = text.index("The cited")
    end = text.index(". Tail") + 1
    html = highlight(text, [(start, end)])
    assert html.count("<mark>") == 1
    assert "<mark>The cited &lt;i&gt;part&lt;/i&gt;.</mark>" in html
    assert html.startswith("A &lt;b&gt;bold&lt;/b&gt; claim. ")
    assert html.endswith(" Tail &amp; more.")
    assert "<b>" not in html and "<i>" not in html


def test_spans_are_clipped_sorted_and_merged():
    assert merge_spans([(10, 20), (0, 5), (4, 8), (18, 30), (50, 40), (-3, 1)], length=25) == [(0, 8), (10, 25)]
    assert highlight("abcdef", [(4, 99), (0, 2)]) == "<mark>ab</mark>cd<mark>ef</mark>"
    assert highlight("abc", []) == "abc"


def test_sources_escape_document_text_title_and_source():
    text = f"Intro. {HOSTILE} End."
    c = citation(title=f"Title {HOSTILE}", source="notes/<script>x</script>.md", text=text,
                 quote=HOSTILE, quote_spans=[(7, 7 + len(HOSTILE))])
    html = sources_html(answer(citations=[c]))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<mark>") == 1
    assert "notes/&lt;script&gt;x&lt;/script&gt;.md" in html


def test_citation_card_shows_title_source_date_score_and_number():
    html = citation_card(citation(n=2))
    assert 'id="source-2"' in html and "[2]" in html
    assert "Kremlin says it won&#x27;t abandon Iran" in html
    assert "corpus/kremlin.txt" in html and "2024-10-22" in html and "score 0.877" in html
    assert "<mark>Peskov said they will deepen ties.</mark>" in html


def test_only_http_sources_become_links():
    link = safe_link("https://example.org/a?b=1&c=<2>")
    assert link.startswith('<a href="https://example.org/a?b=1&amp;c=&lt;2&gt;"')
    assert 'rel="noopener noreferrer nofollow"' in link and 'target="_blank"' in link
    for source in ("javascript:alert(1)", "data:text/html,<script>x</script>", "corpus/a.md", ""):
        assert "<a" not in safe_link(source)
    assert "&lt;script&gt;" in safe_link("data:text/html,<script>x</script>")


def test_escape_markdown_keeps_document_text_literal():
    text = "*bold* _it_ [link](javascript:x) `code` $$x$$ <b>hi</b> | ~strike~\n# heading\n- item\n1. first"
    out = escape_markdown(text)
    assert "<b>" not in out and "&lt;b&gt;hi&lt;/b&gt;" in out
    for token in (r"\*bold\*", r"\_it\_", r"\[link\]", r"\`code\`", r"\$\$x\$\$", r"\~strike\~"):
        assert token in out
    assert "\n\\# heading" in out and "\n\\- item" in out and "\n1\\. first" in out
    # removing the escapes gives the original text back (nothing lost, nothing added)
    assert re.sub(r"\\(.)", r"\1", out).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_extractive_answer_message_has_markers_and_mode_line():
    msg = answer_markdown(answer())
    assert "Peskov said they will deepen ties. \\[1\\]" in msg
    assert "Answered by: offline extractive" in msg and "3 passages searched" in msg and "1.2 s" in msg
    assert "unsupported" not in msg and "⚠" not in msg


def test_llm_answer_names_the_model_and_shows_the_fallback_notice():
    a = answer(mode="llm", model="qwen2.5-7b-instruct", notice="LLM timed out <after 30 s>; answered offline")
    msg = answer_markdown(a)
    assert "Answered by: LLM (qwen2.5-7b-instruct)" in mode_line(a)
    assert msg.startswith("> ⚠ LLM timed out &lt;after 30 s&gt;; answered offline")
    status = status_html(a)
    assert "LLM (qwen2.5-7b-instruct)" in status and "LLM timed out &lt;after 30 s&gt;" in status


def test_unsupported_sentences_are_flagged_inline_and_listed():
    text = "Peskov said they will deepen ties. [1] Russia will send <troops> to Iran. [1] Yes."
    verification = {
        "sentences": [
            {"text": "Peskov said they will deepen ties.", "cites": [1], "supported": True, "score": 0.9, "neutral": False},
            {"text": "Russia will send <troops> to Iran.", "cites": [1], "supported": False, "score": 0.31,
             "neutral": False},
            {"text": "Yes.", "cites": [], "supported": True, "score": 0.0, "neutral": True},
        ],
        "quotes_verified": True, "unverified_quotes": [],
    }
    a = answer(answer=text, mode="llm", model="m", verification=verification)
    msg = answer_markdown(a)
    assert msg.count('class="unsupported"') == 1
    flagged = re.search(r'<span class="unsupported"[^>]*>(.*?)</span>', msg).group(1)
    assert flagged == "⚠ Russia will send &lt;troops&gt; to Iran."
    assert "1 sentence is not supported by the cited passage" in msg
    assert "“Russia will send &lt;troops&gt; to Iran.” (score 0.31)" in msg
    assert "unsupported sentence(s) flagged" in status_html(a)


def test_all_supported_verification_is_reported():
    verification = {"sentences": [{"text": "Peskov said they will deepen ties.", "cites": [1], "supported": True,
                                   "score": 0.9, "neutral": False}], "quotes_verified": True, "unverified_quotes": []}
    a = answer(verification=verification)
    assert 'class="unsupported"' not in answer_markdown(a)
    assert "every sentence is supported" in status_html(a)


def test_abstention_and_empty_states():
    a = answer(answer="The sources do not contain an answer to this question.", abstained=True, citations=[])
    assert "no answer found in the sources" in mode_line(a)
    assert "No sources cited" in sources_html(a)
    assert "Sources of the answer appear here" in sources_html(None)


def test_streaming_message_is_escaped_with_a_cursor():
    assert streaming_markdown("Peskov <b>said") == "Peskov &lt;b&gt;said ▌"


def test_ingest_report_lists_errors_with_escaped_names():
    report = {"added": ["a.md"], "updated": [], "unchanged": ["b.md"], "chunks_written": 3, "chunks_total": 9,
              "errors": [{"source": "<script>x</script>.md", "error": "file is empty"}]}
    md = ingest_report_markdown(report, rejected=[("evil*.exe", "unsupported file type .exe")])
    assert "1 added, 1 unchanged; wrote 3 chunks; the store holds 9 chunks." in md
    assert "**evil\\*.exe**: unsupported file type .exe" in md
    assert "&lt;script&gt;x&lt;/script&gt;.md" in md and "<script>" not in md
    assert ingest_report_markdown({"errors": []}) == "Nothing to ingest."


@dataclass
class Record:
    speaker: str
    quote: str
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    sentence: str
    kind: str


def test_quote_cards_escape_and_link_to_the_passage():
    r = Record("Dmitry <b>Peskov</b>", "We <i>intend</i> to", "doc-1", "T <script>", "https://example.org/x", 3, 20,
               "“We <i>intend</i> to,” he said.", "direct")
    html = quote_cards([r], lambda rec: ("ab “We <i>intend</i> to” cd", [(3, 22)]))
    assert "<b>" not in html and "<i>" not in html and "<script>" not in html
    assert "Dmitry &lt;b&gt;Peskov&lt;/b&gt;" in html
    assert "<details" in html and "<mark>" in html
    assert '<a href="https://example.org/x"' in html
    assert "No quotes" in quote_cards([])
