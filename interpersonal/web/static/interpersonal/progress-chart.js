/* Progress charts: render each <script type="application/json" class="vl-spec"> with
   vega-embed into the .chart__plot beside it. No inline code (strict CSP): expressions
   are evaluated by vega-interpreter, not eval. The data table beside each chart holds
   the same values, so the page is complete without JavaScript. */
(function () {
  "use strict";
  function dropLegends(node) {
    var encoding = node.encoding || {};
    for (var channel in encoding) {
      if (Object.prototype.hasOwnProperty.call(encoding, channel) && encoding[channel] && "legend" in encoding[channel]) {
        encoding[channel].legend = null;
      }
    }
    (node.layer || []).forEach(dropLegends);
  }
  function render(script) {
    var figure = script.closest(".chart") || script.parentElement;
    var target = figure && figure.querySelector(".chart__plot");
    if (!target || typeof vegaEmbed === "undefined") { return; }
    var spec;
    try { spec = JSON.parse(script.textContent); } catch (e) { return; }
    // A page may ask for a lower plot on a phone (data-narrow-height on the plot: the course
    // page), without the legend: each band is named inside it, and the table gives each severity.
    var narrow = parseInt(target.getAttribute("data-narrow-height") || "", 10);
    if (narrow > 0 && window.matchMedia && window.matchMedia("(max-width: 40rem)").matches) {
      spec.height = narrow;
      dropLegends(spec);
    }
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
