// The Jupyter widget manager (html-manager's embed-amd.js) finds its fonts and chunks from its require.js module
// address, which it would otherwise guess from the page's address. They are served beside it, in _static.
(function () {
  var here = new URL("html-manager/", document.currentScript.src).href;
  window.__jupyter_widgets_assets_path__ = here;
  var dir = here.replace(/\/$/, "");
  // module ids such as "@jupyter-widgets/controls" and ".../html-manager/dist/libembed-amd" resolve beside it
  window.require.config({paths: {"@jupyter-widgets": dir, "@jupyter-widgets/html-manager/dist": dir}});
})();
