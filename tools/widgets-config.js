// Set-up for the vendored ipywidgets HTML manager (copied into the build by tools/vendor_js.py).
(function () {
  // 1. Point require.js at it: the manager derives the URL of its fonts from its modules' URIs;
  //    without this it looks for them under <page folder>/@jupyter-widgets/..., which does not exist.
  var src = document.currentScript.src;
  var base = src.substring(0, src.lastIndexOf("/") + 1);
  require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": base + "widgets",
      "@jupyter-widgets": base + "widgets",
    },
  });
  // 2. The widgets typeset labels with the MathJax 2 call MathJax.Hub.Queue; the book loads
  //    MathJax 3. Forward those calls to MathJax 3 instead of failing with "reading 'Queue'".
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (mj && !mj.Hub) {
      mj.Hub = {
        Queue: function (job) {
          var el = job && job[2];
          if (window.MathJax.typesetPromise) {
            window.MathJax.typesetPromise(el ? [el] : undefined).catch(function () {});
          }
        },
      };
    }
  });
})();
