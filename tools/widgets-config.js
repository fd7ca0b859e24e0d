// Point require.js at the vendored ipywidgets HTML manager (copied into the build by
// tools/vendor_js.py). The manager derives the URL of its fonts from its own module URI; without
// this it looks for them under <page folder>/@jupyter-widgets/..., which does not exist.
(function () {
  var src = document.currentScript.src;
  var base = src.substring(0, src.lastIndexOf("/") + 1);
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": base + "widgets" } });
})();
