// The outcomes dashboard while its first figures are worked out (data-poll): fetch the page again
// every few seconds; once the fresh page no longer polls (the figures are ready, or could not be
// worked out), reload it so that its tables and charts are drawn. Without JavaScript the
// "Check again" link does the same by hand.
(function () {
  "use strict";
  function poll() {
    var current = document.getElementById("outcomes-progress");
    if (!current || !current.dataset.poll) return;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("outcomes-progress");
          if (fresh && fresh.dataset.poll) { poll(); } else { window.location.reload(); }
        })
        .catch(function () { /* the "Check again" link still works */ });
    }, parseInt(current.dataset.poll, 10) || 3000);
  }
  poll();
})();
