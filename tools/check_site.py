"""Check the built course website in a real browser: headless Chromium, driven by Playwright.

Usage: python tools/check_site.py [BUILD_DIR]      (make site-test; default site/_build/html)
       python tools/check_site.py --self-test     (plants one fault of each kind in a tiny site; all must be caught)

It serves BUILD_DIR on localhost, refuses every request that leaves localhost (the pages must render offline),
and visits every page. It fails, listing each problem, on:

- a console error, an uncaught page error, a failed request or one that tried to leave localhost;
- an internal link to a page or anchor that does not exist;
- an image that does not load (``naturalWidth == 0``);
- math that MathJax did not typeset, or a stored widget view that the widget manager did not draw;
- a lesson page without a figure, without an "Open in Colab" link naming that lesson's notebook path, without
  a download link to its notebook, or without its solutions behind a closed toggle;
- a search for "attention" that finds nothing.

It saves screenshots of the landing page and of one lesson page under ``site/_build/screenshots/``.
Playwright never downloads a browser here: it drives the system's Chromium (Debian package ``chromium``).
"""
from __future__ import annotations

import functools
import html
import http.server
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from utils.runtime import colab_url  # noqa: E402

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update"]
SCREENSHOT_LESSON = "notebooks/02_soft_vector_retrieval.html"
ID = re.compile(r"""\b(?:id|name)=["']([^"']+)["']""")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise SystemExit("no Chromium found: install the Debian package `chromium` (make site-test does)")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:   # the checker reports failed requests itself
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@functools.cache
def anchors(path: Path) -> set[str]:
    return {html.unescape(a) for a in ID.findall(path.read_text(errors="replace"))}


def broken_link(build: Path, base: str, page_url: str, href: str) -> str | None:
    """Why the internal link ``href`` (absolute URL) is broken, or None."""
    url, fragment = urldefrag(href)
    target = build / unquote(urlparse(url).path).lstrip("/")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return f"{page_url}: link to missing {href.removeprefix(base)}"
    if fragment and target.suffix == ".html" and unquote(fragment) not in anchors(target):
        return f"{page_url}: link to missing anchor {href.removeprefix(base)}"
    return None


PAGE_STATE = """() => {
  const imgs = Array.from(document.images);
  return {
    images: imgs.map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth, figure: !!i.closest('.cell_output')})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    math: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    widgetsDrawn: document.querySelectorAll('.jupyter-widgets, .widget-output, .jp-OutputArea').length,
    solutions: Array.from(document.querySelectorAll('details')).filter(d =>
        d.textContent.includes('Solutions to lesson')).map(d => ({open: d.open, code: d.querySelectorAll('pre').length})),
  };
}"""


def settle(page) -> None:
    """Wait for MathJax and for every image, including lazy ones, to load or fail."""
    page.evaluate("""async () => {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
      for (const img of document.images) { img.loading = 'eager'; }
      await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)));
    }""")
    page.wait_for_load_state("networkidle")


def check(build: Path, search_timeout: int = 20_000) -> list[str]:
    problems: list[str] = []
    pages = sorted(p.relative_to(build).as_posix() for p in build.rglob("*.html")
                   if not p.relative_to(build).parts[0].startswith("_"))
    lessons = [p for p in pages if p.startswith("notebooks/")]
    if not lessons:
        problems.append("no lesson pages under notebooks/")
    server, base = serve(build)
    shots = build.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), args=BROWSER_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})

            def offline(route):
                if route.request.url.startswith(base) or route.request.url.startswith("data:"):
                    route.continue_()
                else:
                    problems.append(f"{current[0]}: tried to load {route.request.url} from the network")
                    route.abort()

            current = [""]
            context.route("**/*", offline)
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and problems.append(f"{current[0]}: console error: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"{current[0]}: page error: {e}"))
            page.on("requestfailed", lambda r: r.url.startswith(base) and problems.append(
                f"{current[0]}: request failed: {r.url.removeprefix(base)} ({r.failure})"))
            page.on("response", lambda r: r.status >= 400 and problems.append(
                f"{current[0]}: HTTP {r.status} for {r.url.removeprefix(base)}"))
            for name in pages:
                current[0] = name
                page.goto(base + name, wait_until="load")
                settle(page)
                state = page.evaluate(PAGE_STATE)
                for img in state["images"]:
                    if img["width"] == 0:
                        problems.append(f"{name}: image did not load: {img['src'][:120]}")
                for href in state["links"]:
                    if href.startswith(base) and (why := broken_link(build, base, name, href)):
                        problems.append(why)
                if state["math"] and state["typeset"] < state["math"]:
                    problems.append(f"{name}: MathJax typeset {state['typeset']} of {state['math']} formulas")
                if state["widgetViews"] and not state["widgetsDrawn"]:
                    problems.append(f"{name}: {state['widgetViews']} stored widget view(s), none drawn")
                if name in lessons:
                    problems += lesson_problems(name, state)
                if name == "index.html":
                    page.screenshot(path=str(shots / "landing.png"), full_page=True)
                if name == SCREENSHOT_LESSON:
                    page.screenshot(path=str(shots / "lesson.png"))
            current[0] = "search.html"
            page.goto(base + "search.html?q=attention", wait_until="load")
            try:
                page.wait_for_selector("#search-results ul li, ul.search li", timeout=search_timeout)
            except Exception:   # Playwright's TimeoutError: no result appeared
                pass
            if not page.locator("ul.search li").count():
                problems.append("search.html: a search for 'attention' found nothing")
            browser.close()
    finally:
        server.shutdown()
    print(f"visited {len(pages)} pages ({len(lessons)} lessons) in headless Chromium; "
          f"screenshots in {shots.relative_to(ROOT) if shots.is_relative_to(ROOT) else shots}")
    return problems


def lesson_problems(name: str, state: dict) -> list[str]:
    notebook = "notebooks/" + Path(name).with_suffix(".ipynb").name
    problems = []
    if not any(img["figure"] and img["width"] > 0 for img in state["images"]):
        problems.append(f"{name}: no figure shown")
    colab = [h for h in state["links"] if h.startswith("https://colab.research.google.com/")]
    if not colab:
        problems.append(f"{name}: no Open-in-Colab link")
    for href in colab:
        if href != colab_url(notebook):
            problems.append(f"{name}: Colab link {href} does not name {colab_url(notebook)}")
    if not any(h.endswith("_sources/" + notebook) for h in state["links"]):
        problems.append(f"{name}: no download link to {notebook}")
    if not state["solutions"]:
        problems.append(f"{name}: no solutions toggle")
    for toggle in state["solutions"]:
        if toggle["open"] or not toggle["code"]:
            problems.append(f"{name}: the solutions toggle should start closed and hold the code: {toggle}")
    return problems


#: A tiny site with one planted fault of each kind, and the words the report must use for each
PLANTED = {
    "index.html": '<html><body><a href="missing.html">x</a><a href="notebooks/00_x.html#nowhere">y</a>'
                  '<img src="gone.png"><script>console.error("planted")</script>'
                  '<script src="https://cdn.example.org/lib.js"></script></body></html>',
    "notebooks/00_x.html": '<html><body><a href="https://colab.research.google.com/github/a/b/blob/main/x.ipynb">'
                           'colab</a><p>no figure</p></body></html>',
}
CAUGHT = ("link to missing missing.html", "link to missing anchor notebooks/00_x.html#nowhere",
          "image did not load", "console error: planted", "tried to load https://cdn.example.org/lib.js",
          "00_x.html: no figure shown", "does not name", "no download link", "no solutions toggle",
          "search for 'attention' found nothing")


def self_test() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "html"
        for name, text in PLANTED.items():
            (build / name).parent.mkdir(parents=True, exist_ok=True)
            (build / name).write_text(text)
        (build / "search.html").write_text('<html><body><ul class="search"></ul></body></html>')
        problems = check(build, search_timeout=2_000)
    missed = [fault for fault in CAUGHT if not any(fault in problem for problem in problems)]
    for fault in missed:
        print("MISSED", fault)
    print(f"self-test: {len(CAUGHT) - len(missed)} of {len(CAUGHT)} planted faults caught")
    return 1 if missed else 0


def main() -> int:
    if "--self-test" in sys.argv[1:]:
        return self_test()
    build = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "site" / "_build" / "html").resolve()
    if not (build / "index.html").is_file():
        raise SystemExit(f"{build} has no index.html: run `make site` first")
    problems = check(build)
    for problem in problems:
        print("FAIL", problem)
    print("site check:", "passed" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
