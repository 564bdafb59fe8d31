"""The UI in a real headless Chromium (Debian's /usr/bin/chromium, installed by scripts/ensure-chromium.sh),
driven with Playwright's Python package. Never `playwright install`: no browser download."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import free_port, make_settings

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 60_000

HOSTILE_DOC = """# Harbour <script>window.__pwned = 1</script> gazette

The mayor of Port Elbrin, Anneli Varga, opened the new ferry terminal <img src=x onerror="window.__pwned=2"> on *Monday* [early](javascript:window.__pwned=3) ${window.__pwned=4} {{value}}.
The terminal cost 40 million euros and was finished ahead of schedule.
"We built this for the next fifty years," Varga said at the opening ceremony.
"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (scripts/ensure-chromium.sh installs it)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
                                      timeout=TIMEOUT_MS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for()
    return page


def ask(page, question: str):
    """Ask in the page; returns the new assistant message once it is final (has its mode line)."""
    messages = page.locator('#chatbot [data-testid="bot"]')
    before = messages.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(messages).to_have_count(before + 1, timeout=TIMEOUT_MS)
    bot = messages.nth(before)
    expect(bot).to_contain_text("Answered by:", timeout=TIMEOUT_MS)  # the final message, not a partial one
    return bot


def test_page_shows_a_cited_answer_and_the_highlighted_passage(browser, ui_url, tmp_path):
    page = open_page(browser, ui_url)
    try:
        bot = ask(page, "What did Peskov say?")
        answer = bot.inner_text()
        markers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", answer)})
        assert markers and "Peskov" in answer
        assert "Answered by: offline extractive" in answer
        panel = page.locator("#sources-panel")
        for n in markers:
            card = panel.locator(f"#source-{n}")
            assert card.locator(".source-title").inner_text().strip()
            marked = " ".join(card.locator("mark").all_inner_texts())
            assert len(marked.split()) >= 3  # the cited sentence is highlighted in its passage
        assert "Kremlin says it won't abandon Iran" in panel.inner_text()
        assert "Answered by: offline extractive" in page.locator("#status-line").inner_text()
        shot = tmp_path / "answer.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000

        # a second question replaces the sources; clicking the first answer brings its sources back
        first_marks = panel.locator("mark").all_inner_texts()
        ask(page, "What did Iran launch at the start of the month?")
        expect(panel.locator("mark").first).not_to_have_text(first_marks[0])
        bot.click()
        expect(panel.locator("mark").first).to_have_text(first_marks[0])
        assert panel.locator("mark").all_inner_texts() == first_marks
    finally:
        page.close()


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """An app over a store holding the seed article and a document full of markup and script."""
    from ingest.pipeline import ingest
    from rag.engine import Engine
    from tests.conftest import SEED
    from ui import build_app, launch

    work = tmp_path_factory.mktemp("hostile-src")
    (work / "harbour.md").write_text(HOSTILE_DOC, encoding="utf-8")
    shutil.copy(SEED, work / SEED.name)
    settings = make_settings(tmp_path_factory.mktemp("hostile") / "data", port=free_port())
    report = ingest([str(work)], settings, show_progress=False)
    assert len(report.added) == 2 and not report.errors
    app = build_app(settings, Engine(settings))
    launch(app, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        app.close()


def test_document_markup_is_shown_as_text_and_never_runs(browser, hostile_app, tmp_path):
    page = open_page(browser, hostile_app)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        bot = ask(page, "What did Anneli Varga open?")
        markup = '<img src=x onerror="window.__pwned=2"> on *Monday* [early](javascript:window.__pwned=3)'
        assert markup in bot.inner_text()  # quoted verbatim, shown as typed: no HTML, no Markdown
        assert bot.locator("img, em, a").count() == 0
        panel = page.locator("#sources-panel")
        panel.locator("mark").first.wait_for()
        text = panel.inner_text()
        assert "Harbour <script>window.__pwned = 1</script> gazette" in text
        assert markup + " ${window.__pwned=4} {{value}}" in text
        assert panel.locator("script, img, em").count() == 0

        page.get_by_role("tab", name="Library").click()
        table = page.locator("#docs-table")
        table.get_by_text("Harbour <script>window.__pwned = 1</script> gazette").first.wait_for()
        page.get_by_role("tab", name="Quotes").click()
        page.locator("#speakers").get_by_text("Dmitry Peskov").first.click()
        page.locator("#speaker-quotes .quote-card").first.wait_for()
        page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert dialogs == []
    finally:
        page.close()
