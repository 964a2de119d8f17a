"""Check the built course website in a real browser: headless Chromium, driven by Playwright.

Usage: python -m tools.check_site [BUILD_DIR]      (make site-test; default site/_build/html)
       python -m tools.check_site --self-test     (plants one fault of each kind in a tiny site; all must be caught)

It serves BUILD_DIR on localhost, refuses every request that leaves localhost (the pages must render offline),
and visits every page. It fails, listing each problem, on:

- a console error, an uncaught page error, a failed request or one that tried to leave localhost;
- an internal link to a page or anchor that does not exist;
- an image that does not load (``naturalWidth == 0``);
- math that MathJax did not typeset, or a stored widget view that the widget manager did not draw;
- a lesson page without a figure, without an "Open in Colab" link naming that lesson's notebook path, without
  a download link to its notebook, or without its solutions behind a closed toggle;
- a search for "attention" that finds nothing;
- an accessibility problem: axe-core (``site/_vendor/axe``, vendored by ``tools/vendor_site_js.py``) runs on every
  page in the light and the dark theme (Chromium emulates the reader's system preference, which the site follows;
  the check fails if the theme did not switch). Any serious or critical violation fails; the elements failing each
  rule, moderate and minor ones included, are printed per theme;
- a lesson page (``SCREENSHOT_LESSON``) where the Tab key alone does not reach search, every lesson link, the
  solutions toggle and the Colab link, or reaches one of them without a visible focus ring.

It saves screenshots of the landing page and of one lesson page, in each theme, under ``site/_build/screenshots/``.
Playwright never downloads a browser here: it drives the system's Chromium (Debian package ``chromium``).
"""
from __future__ import annotations

import argparse
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

from utils.runtime import colab_url

ROOT = Path(__file__).resolve().parents[1]

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update"]
SCREENSHOT_LESSON = "notebooks/02_soft_vector_retrieval.html"
AXE = ROOT / "site" / "_vendor" / "axe" / "axe.min.js"   # axe-core, vendored by tools/vendor_site_js.py
THEMES = ("light", "dark")   # the site follows the reader's system (default_mode "auto"): Chromium emulates each
BLOCKING = ("critical", "serious")   # axe impacts that fail the check; moderate and minor ones are counted
IMPACTS = ("critical", "serious", "moderate", "minor")
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
        d.textContent.includes('Solutions to lesson'))
        .map(d => ({open: d.open, code: d.querySelectorAll('pre').length})),
  };
}"""


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations'], preload: false});
  return result.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '),
                              why: (n.failureSummary || '').split('\\n').slice(1, 2).join('')})),
  }));
}"""

#: Which theme the page shows, and whether its background looks like it (pydata-sphinx-theme's data-theme)
THEME_STATE = """() => {
  const rgb = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number);
  const opaque = rgb.length < 4 || rgb[3] > 0;
  return {theme: document.documentElement.dataset.theme || '', dark: opaque && (rgb[0] + rgb[1] + rgb[2]) / 3 < 100};
}"""


def audit(page, name: str, theme: str, counts: dict) -> list[str]:
    """axe-core on the page as shown: a problem for each serious or critical rule; every rule's elements are
    added to ``counts[(rule, impact)][theme]``."""
    state = page.evaluate(THEME_STATE)
    problems = []
    if state["theme"] != theme or state["dark"] != (theme == "dark"):
        problems.append(f"{name}: the {theme} theme was not applied (data-theme={state['theme']!r}, "
                        f"{'dark' if state['dark'] else 'light'} background)")
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    for v in page.evaluate(AXE_RUN):
        counts.setdefault((v["rule"], v["impact"]), dict.fromkeys(THEMES, 0))[theme] += len(v["nodes"])
        if v["impact"] in BLOCKING:
            first = v["nodes"][0]
            problems.append(f"{name} ({theme}): {v['impact']} {v['rule']}: {len(v['nodes'])} element(s) "
                            f"({v['help']}), e.g. {first['target'][:100]}: {first['why'][:160]}")
    return problems


def report_counts(counts: dict) -> None:
    """The audit's elements per rule and impact, in each theme."""
    print(f"axe-core {axe_version()} on every page, elements failing each rule:")
    print(f"  {'impact':<9} {'rule':<32} " + " ".join(f"{t:>6}" for t in THEMES))
    for (rule, impact), per_theme in sorted(counts.items(), key=lambda kv: (IMPACTS.index(kv[0][1]), kv[0][0])):
        print(f"  {impact:<9} {rule:<32} " + " ".join(f"{per_theme[t]:>6}" for t in THEMES))
    if not counts:
        print("  (none)")


def axe_version() -> str:
    found = re.search(r"axe v([\d.]+)", AXE.read_text()[:300]) if AXE.exists() else None
    return found.group(1) if found else "?"


def settle(page) -> None:
    """Wait for MathJax and for every image, including lazy ones, to load or fail."""
    page.evaluate("""async () => {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
      for (const img of document.images) { img.loading = 'eager'; }
      await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)));
    }""")
    page.wait_for_load_state("networkidle")


def check(build: Path, search_timeout: int = 20_000, keyboard_lesson: str = SCREENSHOT_LESSON) -> list[str]:
    problems: list[str] = []
    counts: dict = {}
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
            current = [""]

            def offline(route):
                if route.request.url.startswith(base) or route.request.url.startswith("data:"):
                    route.continue_()
                else:
                    problems.append(f"{current[0]}: tried to load {route.request.url} from the network")
                    route.abort()

            for theme in THEMES:   # every check in the light theme; the audit (and console errors) in both
                context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=theme)
                context.route("**/*", offline)
                page = context.new_page()
                page.on("console", lambda m: m.type == "error" and problems.append(
                    f"{current[0]}: console error: {m.text}"))
                page.on("pageerror", lambda e: problems.append(f"{current[0]}: page error: {e}"))
                page.on("requestfailed", lambda r: r.url.startswith(base) and problems.append(
                    f"{current[0]}: request failed: {r.url.removeprefix(base)} ({r.failure})"))
                page.on("response", lambda r: r.status >= 400 and problems.append(
                    f"{current[0]}: HTTP {r.status} for {r.url.removeprefix(base)}"))
                for name in pages:
                    current[0] = name
                    page.goto(base + name, wait_until="load")
                    settle(page)
                    if theme == THEMES[0]:
                        problems.extend(page_problems(build, base, name, page.evaluate(PAGE_STATE), name in lessons))
                    problems.extend(audit(page, name, theme, counts))
                    if name == "index.html":
                        page.screenshot(path=str(shots / f"landing-{theme}.png"), full_page=True)
                    if name == SCREENSHOT_LESSON:
                        page.screenshot(path=str(shots / f"lesson-{theme}.png"))
                if theme == THEMES[0] and keyboard_lesson in pages:
                    current[0] = keyboard_lesson
                    problems.extend(keyboard_problems(page, base, keyboard_lesson))
                elif theme == THEMES[0]:
                    problems.append(f"keyboard check: no page {keyboard_lesson}")
                if theme == THEMES[0]:
                    current[0] = "search.html"
                    page.goto(base + "search.html?q=attention", wait_until="load")
                    try:
                        page.wait_for_selector("#search-results ul li, ul.search li", timeout=search_timeout)
                    except Exception:   # Playwright's TimeoutError: no result appeared
                        pass
                    if not page.locator("ul.search li").count():
                        problems.append("search.html: a search for 'attention' found nothing")
                context.close()
            browser.close()
    finally:
        server.shutdown()
    print(f"visited {len(pages)} pages ({len(lessons)} lessons) in headless Chromium, {' and '.join(THEMES)} "
          f"themes; screenshots in {shots.relative_to(ROOT) if shots.is_relative_to(ROOT) else shots}")
    report_counts(counts)
    return list(dict.fromkeys(problems))   # the same console error in both themes is one problem


def page_problems(build: Path, base: str, name: str, state: dict, lesson: bool) -> list[str]:
    problems = []
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
    if lesson:
        problems.extend(lesson_problems(name, state))
    return problems


#: What the keyboard focus is on: which of the elements a learner must reach it is, and whether it shows
FOCUS_STATE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e), box = e.getBoundingClientRect();
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none');
  const kind = e.matches('.search-button, .search-button-field, input[type="search"], input[name="q"]') ? 'search'
    : e.matches('.bd-sidebar-primary a[href]') && e.href.includes('/notebooks/') ? 'lesson link'
    : e.matches('details summary') && e.textContent.includes('Solutions to lesson') ? 'solutions toggle'
    : e.matches('a[href^="https://colab.research.google.com/"]') ? 'Colab link' : '';
  return {kind, ring, shown: box.width > 0 && box.height > 0 && e.checkVisibility({visibilityProperty: true}),
          href: e.href || '',
          what: `${e.tagName.toLowerCase()} "${(e.textContent || e.getAttribute('aria-label') || '')
            .trim().slice(0, 40)}"`};
}"""
KEYBOARD_TARGETS = ("search", "lesson link", "solutions toggle", "Colab link")


def keyboard_problems(page, base: str, name: str, max_presses: int = 800) -> list[str]:
    """Tab alone reaches search, every lesson link in the sidebar, the solutions toggle and the Colab link, each
    shown and with a visible focus ring (outline or box-shadow)."""
    page.goto(base + name, wait_until="load")
    settle(page)
    lesson_links = set(page.evaluate("""() => Array.from(document.querySelectorAll('.bd-sidebar-primary a[href]'))
        .map(a => a.href).filter(h => h.includes('/notebooks/'))"""))
    reached: dict[str, int] = {}
    links_reached: set[str] = set()
    problems, first = [], None
    for press in range(1, max_presses + 1):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state is None:
            continue
        if state == first:
            break   # round the page once
        first = first or state
        if state["kind"]:
            reached.setdefault(state["kind"], press)
            if state["kind"] == "lesson link":
                links_reached.add(state["href"])
            if not state["ring"]:
                problems.append(f"{name}: keyboard: no visible focus on the {state['kind']} {state['what']}")
            if not state["shown"]:
                problems.append(f"{name}: keyboard: the {state['kind']} {state['what']} takes the focus unseen")
        if set(KEYBOARD_TARGETS) <= set(reached) and links_reached >= lesson_links:
            break
    for kind in KEYBOARD_TARGETS:
        if kind not in reached:
            problems.append(f"{name}: keyboard: the {kind} is not reached with the Tab key ({press} presses)")
    for href in sorted(lesson_links - links_reached):
        problems.append(f"{name}: keyboard: the lesson link {href.removeprefix(base)} is not reached with the Tab key")
    print(f"keyboard ({name}): " + ", ".join(f"{k} after {n} Tab presses" for k, n in reached.items())
          + f"; {len(links_reached)} of {len(lesson_links)} lesson links")
    return list(dict.fromkeys(problems))


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
    if not state["solutions"] and not Path(name).name.startswith("appendix_"):   # an appendix has no exercises
        problems.append(f"{name}: no solutions toggle")
    for toggle in state["solutions"]:
        if toggle["open"] or not toggle["code"]:
            problems.append(f"{name}: the solutions toggle should start closed and hold the code: {toggle}")
    return problems


#: A tiny site with one planted fault of each kind, and the words the report must use for each
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
         "RU5ErkJggg==")
PLANTED = {
    "index.html": '<html lang="en"><head><title>t</title></head><body><main><a href="missing.html">x</a>'
                  '<a href="notebooks/00_x.html#nowhere">y</a><img src="gone.png" alt="gone">'
                  '<script>console.error("planted")</script><script src="https://cdn.example.org/lib.js"></script>'
                  '<p style="color: #00af00; background: #f3f4f5">green output text on grey</p>'
                  f'<img src="{PIXEL}"></main></body></html>',
    "notebooks/00_x.html": '<html lang="en"><head><title>t</title><style>a:focus { outline: none }</style></head>'
                           '<body><main><a href="https://colab.research.google.com/github/a/b/blob/main/x.ipynb">'
                           'colab</a><p>no figure</p></main></body></html>',
}
CAUGHT = ("link to missing missing.html", "link to missing anchor notebooks/00_x.html#nowhere",
          "image did not load", "console error: planted", "tried to load https://cdn.example.org/lib.js",
          "00_x.html: no figure shown", "does not name", "no download link", "no solutions toggle",
          "search for 'attention' found nothing", "index.html (light): serious color-contrast: 1 element",
          "index.html (dark): critical image-alt: 1 element", "the dark theme was not applied",
          "the search is not reached with the Tab key", "no visible focus on the Colab link")


def self_test() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "html"
        for name, text in PLANTED.items():
            (build / name).parent.mkdir(parents=True, exist_ok=True)
            (build / name).write_text(text)
        (build / "search.html").write_text('<html><body><ul class="search"></ul></body></html>')
        problems = check(build, search_timeout=2_000, keyboard_lesson="notebooks/00_x.html")
    missed = [fault for fault in CAUGHT if not any(fault in problem for problem in problems)]
    for fault in missed:
        print("MISSED", fault)
    print(f"self-test: {len(CAUGHT) - len(missed)} of {len(CAUGHT)} planted faults caught")
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", type=Path, default=ROOT / "site" / "_build" / "html",
                        help="the built site (default: site/_build/html)")
    parser.add_argument("--self-test", action="store_true",
                        help="check that the checker catches one planted fault of each kind")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    build = args.build.resolve()
    if not (build / "index.html").is_file():
        raise SystemExit(f"{build} has no index.html: run `make site` first")
    problems = check(build)
    for problem in problems:
        print("FAIL", problem)
    print("site check:", "passed" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
