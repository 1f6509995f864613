/* Course page: its detail sections are closed <details> (issue 14). A link to one of them
   (#sessions after recording a session, #tasks, #chart-phq9 after a correction…) opens it, so the
   therapist lands on what they came back to. Without JavaScript every summary still opens on
   click or Enter; nothing depends on this file. */
(function () {
  "use strict";
  function openFor(id) {
    if (!id) { return; }
    var target = document.getElementById(id);
    if (!target) { return; }
    var inner = target.querySelector("details.course-detail, details.chart__data, details.corrections");
    if (inner && (target.tagName === "SECTION" || target.tagName === "FIGURE")) { inner.open = true; }
    for (var el = target.closest("details"); el; el = el.parentElement && el.parentElement.closest("details")) {
      el.open = true;
    }
    target.scrollIntoView();
  }
  function fromHash() {
    try { openFor(decodeURIComponent(window.location.hash.slice(1))); } catch (e) { /* a malformed hash */ }
  }
  window.addEventListener("hashchange", fromHash);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fromHash); } else { fromHash(); }
})();
