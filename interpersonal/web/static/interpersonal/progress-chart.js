/* Progress charts: render each <script type="application/json" class="vl-spec"> with
   vega-embed into the .chart__plot beside it. No inline code (strict CSP): expressions
   are evaluated by vega-interpreter, not eval. The data table beside each chart holds
   the same values, so the page is complete without JavaScript. */
(function () {
  "use strict";
  function render(script) {
    var figure = script.closest(".chart") || script.parentElement;
    var target = figure && figure.querySelector(".chart__plot");
    if (!target || typeof vegaEmbed === "undefined") { return; }
    var spec;
    try { spec = JSON.parse(script.textContent); } catch (e) { return; }
    // defaultStyle/disableDefaultStyle: vega-embed and vega-tooltip would otherwise inject a
    // <style> element, which the policy (style-src 'self') blocks; site.css styles both instead.
    var options = { actions: false, renderer: "svg", defaultStyle: false,
                    tooltip: { disableDefaultStyle: true } };
    if (typeof vega !== "undefined" && vega.expressionInterpreter) {
      options.ast = true;
      options.expr = vega.expressionInterpreter;
    }
    vegaEmbed(target, spec, options).then(function () {
      figure.classList.add("chart--ready");
    }).catch(function (err) {
      target.textContent = "The chart could not be drawn; the table below has the values.";
      if (window.console) { console.error(err); }
    });
  }
  function init() {
    var specs = document.querySelectorAll('script[type="application/json"].vl-spec');
    for (var i = 0; i < specs.length; i++) { render(specs[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
