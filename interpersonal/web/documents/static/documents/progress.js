// A generated document's progress page: while the document is being made (data-poll), fetch the
// page again every few seconds and swap in the new progress section; stop once it is ready or
// failed. Without JavaScript the page's "Check again" link does the same by hand.
(function () {
  "use strict";
  function poll() {
    var current = document.getElementById("document-progress");
    if (!current || !current.dataset.poll) return;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("document-progress");
          if (fresh) current.replaceWith(document.importNode(fresh, true));
          poll();
        })
        .catch(function () { /* the "Check again" link still works */ });
    }, parseInt(current.dataset.poll, 10) || 2000);
  }
  poll();
})();
