// The letter page warns before the session's idle timeout, and says when it has passed.
//
// The server ends a session after data-idle-seconds without a request (every request starts the
// clock again, so it starts when this page was served). data-warn-seconds before that, the warning
// is shown: role="alert" has it read out once; the seconds count down beside it, hidden from
// screen readers so that they are not read out every second. When the time is up the text says
// so, once. Nothing here is needed: without this script, text posted after the timeout is kept
// by the server and restored after sign-in all the same (letters/kept.py).
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) { return; }
  var idle = parseInt(box.getAttribute("data-idle-seconds"), 10);
  var warn = parseInt(box.getAttribute("data-warn-seconds"), 10);
  if (!(idle > 0) || !(warn >= 0)) { return; }
  var text = document.getElementById("session-warning-text");
  var started = Date.now();
  var ended = false;
  var countdown = document.createElement("span");
  countdown.setAttribute("aria-hidden", "true");
  countdown.className = "session-warning__countdown";

  function inWords(seconds) {
    var minutes = Math.ceil(seconds / 60);
    if (seconds < 60) { return "less than a minute"; }
    return "about " + minutes + " minute" + (minutes === 1 ? "" : "s");
  }

  function clock(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var rest = s % 60;
    return Math.floor(s / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function tick() {
    var left = idle - (Date.now() - started) / 1000;
    if (left > warn) { return; }
    if (left <= 0) {
      if (!ended) {
        ended = true;
        text.textContent = "Your session has ended because the page was idle. Your text is still here: " +
          "press Save the draft, sign in again, and it will be put back into the letter.";
        box.hidden = false;
        window.clearInterval(timer);
      }
      return;
    }
    if (box.hidden) {
      text.textContent = "Your session will end in " + inWords(left) + " unless you save the draft. ";
      text.appendChild(countdown);
      box.hidden = false;
    }
    countdown.textContent = "(" + clock(left) + ")";
  }

  var timer = window.setInterval(tick, 1000);
  tick();
}());
