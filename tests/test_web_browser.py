"""The web interface in a real headless Chromium (Debian's package, driven by Playwright): what a
reader does with a mouse and with the keyboard alone, downloads, console errors and axe-core's
accessibility rules, against a real ``searchdoc serve`` process on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
LETTER = "kst-33694-45"
QUERY = "autonome wapensystemen"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, deadline_s: float = 60.0) -> None:
    """Poll until the server accepts connections (or has died, or the deadline passed)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"searchdoc serve exited: {process.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"searchdoc serve did not listen on port {port} within {deadline_s:.0f} s")


@pytest.fixture(scope="module")
def server(web_corpus, tmp_path_factory):
    corpus_dir, index_dir = web_corpus
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHDOC_")}
    env["HOME"] = str(tmp_path_factory.mktemp("serve-home"))
    process = subprocess.Popen(
        [sys.executable, "-m", "searchdoc", "--corpus", str(corpus_dir), "--index", str(index_dir), "serve",
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Console:
    """Every console error and uncaught page error of a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.console = Console(page)
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_search_then_click_a_hit_lands_on_its_paragraph(page, server):
    page.goto(server + "/")
    page.fill("#q", QUERY)
    page.click("form.search button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?"))
    assert "paragraphs match" in page.inner_text("h1")
    first = page.locator("article.hit h2 a").first
    target = first.get_attribute("href")
    assert re.fullmatch(rf"/doc/{LETTER}#p\d+", target)
    first.click()
    page.wait_for_url(re.compile(rf"/doc/{LETTER}#p\d+$"))
    anchor = target.split("#")[1]
    assert page.evaluate("location.hash") == f"#{anchor}"
    assert page.evaluate("document.querySelector(':target').id") == anchor
    box = page.locator(f"#{anchor}").bounding_box()
    assert 0 <= box["y"] < 900, "the anchored paragraph is not in view"
    assert page.console.errors == []


def test_follow_a_citation_link_and_a_cited_by_link(page, server):
    page.goto(f"{server}/doc/{LETTER}")
    page.locator(".doc-side a[href='/doc/kst-33694-12']").click()
    page.wait_for_url(re.compile(r"/doc/kst-33694-12$"))
    assert page.inner_text("h1") == "Kamerstuk 33 694, nr. 12"
    page.goto(f"{server}/doc/{LETTER}")
    cited_by = page.locator("ul.cited-by a").first
    href = cited_by.get_attribute("href")
    assert href.startswith("/doc/kst-33694-48#p")
    cited_by.click()
    page.wait_for_url(re.compile(r"/doc/kst-33694-48#p\d+$"))
    assert page.inner_text("h1") == "Kamerstuk 33 694, nr. 48"
    assert page.evaluate("document.querySelector(':target').id") == href.split("#")[1]
    assert page.console.errors == []


def test_a_facet_filters_the_results(page, server):
    page.goto(f"{server}/search?q=wapen*")
    before = int(re.match(r"[\d,]+", page.inner_text("h1")).group().replace(",", ""))
    facet = page.locator(".facets ul").first.locator("a").last
    label = facet.inner_text()
    count = int(facet.locator("xpath=following-sibling::span").inner_text())
    facet.click()
    page.wait_for_url(re.compile(r"theme="))
    after = int(re.match(r"[\d,]+", page.inner_text("h1")).group().replace(",", ""))
    assert after == count and after <= before
    assert label in page.inner_text(".active-filters")
    assert page.console.errors == []


def test_export_files_download_and_read_back(page, server, tmp_path):
    page.goto(f"{server}/search?q=" + QUERY.replace(" ", "+"))
    total = int(re.match(r"\d+", page.inner_text("h1")).group())
    with page.expect_download() as download_info:
        page.click(".exports a:text-is('CSV')")
    path = tmp_path / "hits.csv"
    download_info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == total and rows[0]["doc_id"] == LETTER and rows[0]["citation"]
    with page.expect_download() as download_info:
        page.click(".exports a:text-is('CSL-JSON')")
    path = tmp_path / "hits.json"
    download_info.value.save_as(path)
    items = json.loads(path.read_text(encoding="utf-8"))
    assert items and items[0]["id"] == LETTER
    assert page.console.errors == []


def test_copy_button_copies_the_citation(page, server):
    page.goto(f"{server}/search?q=drones")
    button = page.locator("article.hit button.copy").first
    button.click()
    page.wait_for_function("document.querySelector('article.hit button.copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == button.get_attribute("data-copy")


def focused(page) -> dict:
    return page.evaluate("({tag: document.activeElement.tagName, id: document.activeElement.id,"
                         " href: document.activeElement.getAttribute('href'),"
                         " text: document.activeElement.textContent.trim()})")


def tab_to(page, predicate, limit: int = 60) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if predicate(element):
            return element
    raise AssertionError("the keyboard never reached the element")


def test_keyboard_alone(page, server):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content"
    page.keyboard.press("Enter")
    tab_to(page, lambda e: e["id"] == "q")
    page.keyboard.type(QUERY)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    hit = tab_to(page, lambda e: (e["href"] or "").startswith(f"/doc/{LETTER}#p"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(hit["href"]) + "$"))
    # A context panel opens from the keyboard, and "/" jumps to the search box.
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?"))
    tab_to(page, lambda e: e["tag"] == "SUMMARY")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.parentElement.open") is True
    page.keyboard.press("/")
    assert focused(page)["id"] == "mini-q"
    assert page.console.errors == []


PAGES = ["/", f"/search?q={QUERY}", f"/search?q={QUERY}&page=1&theme=laws", "/search?q=wapensystemn",
         f"/doc/{LETTER}", "/doc/kst-33694-48", f"/doc/{LETTER}/graph?depth=2", "/cite", "/cite?ref=2019Z01633"]
#: Pages answering 400 and 404, whose only console message is Chromium's note of that status.
ERROR_PAGES = ["/cite?ref=not+a+citation", '/search?q="unbalanced', "/doc/kst-1-1"]


@pytest.mark.parametrize("path", PAGES)
def test_no_console_errors(page, server, path):
    page.goto(server + path)
    page.wait_for_load_state("load")
    assert page.console.errors == []


@pytest.mark.parametrize("path", ERROR_PAGES)
def test_error_pages_load_without_script_errors(page, server, path):
    response = page.goto(server + path)
    page.wait_for_load_state("load")
    assert response.status in (400, 404)
    assert page.console.errors == [f"Failed to load resource: the server responded with a status of "
                                   f"{response.status} ({response.status_text})"]


@pytest.mark.parametrize("path", PAGES + ERROR_PAGES)
def test_accessibility(browser, server, path):
    # axe is injected as a script, which the page's Content-Security-Policy rightly forbids.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(server + path)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    problems = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
                for v in result["violations"]]
    assert problems == []
