// Accessible names for what the theme and the widget manager draw after the page loads (site/conf.py loads
// this on every page; tools/check_site.py audits the result with axe-core).
(function () {
  "use strict";

  // The primary sidebar (site title and lesson links) is a landmark, so no content sits outside one.
  function landmarks() {
    const sidebar = document.querySelector(".bd-sidebar-primary");
    if (sidebar && !sidebar.getAttribute("role")) {
      sidebar.setAttribute("role", "complementary");
      sidebar.setAttribute("aria-label", "Course contents");
    }
  }

  // The sidebar's expand/collapse toggles (an icon only, beside a page with sub-pages such as the API reference)
  // are named after the page whose sub-pages they show.
  function sidebarToggles() {
    for (const summary of document.querySelectorAll(".bd-sidenav details > summary:not([aria-label])")) {
      if (summary.textContent.trim()) continue;
      const link = summary.closest("li") && summary.closest("li").querySelector(":scope > a");
      const page = link ? link.textContent.trim() : "this section";
      summary.setAttribute("aria-label", `Sub-pages of ${page}`);
    }
  }

  // Stored widgets (lesson 02): each slider handle is named by its widget's description, each image the widget
  // draws gets the alternative text conf.py derived from the cell's plotting calls ("course_alt").
  function widgets(root) {
    for (const handle of root.querySelectorAll('[role="slider"]:not([aria-label]):not([aria-labelledby])')) {
      const widget = handle.closest(".widget-slider, .jupyter-widgets, .widget-hslider, .widget-vslider");
      const label = widget && widget.querySelector(".widget-label");
      const text = label && label.textContent.trim();
      handle.setAttribute("aria-label", text || "slider");
    }
    for (const script of document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')) {
      let alt = "";
      try { alt = JSON.parse(script.textContent).course_alt || ""; } catch (e) { alt = ""; }
      const output = script.closest(".cell_output") || script.parentElement;
      for (const img of output.querySelectorAll("img:not([alt])")) {
        img.setAttribute("alt", alt || "Figure drawn by the interactive widget");
      }
    }
  }

  function run() {
    landmarks();
    sidebarToggles();
    widgets(document);
    if (document.querySelector('script[type="application/vnd.jupyter.widget-view+json"]')) {
      new MutationObserver(() => widgets(document)).observe(document.body, {childList: true, subtree: true});
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
