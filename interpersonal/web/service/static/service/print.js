// The opt-in letter's Print button (a file, not inline script: the Content Security Policy allows none).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
