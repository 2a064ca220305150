// Reloads the page every data-refresh seconds (the worklist), so a
// scheduler's screen follows the daemon without a framework. A page served
// under Content-Security-Policy script-src 'self': no inline script.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh"), 10);
  if (seconds > 0) {
    window.setTimeout(function () {
      if (!document.hidden) {
        window.location.reload();
      } else {
        document.addEventListener("visibilitychange", function () {
          window.location.reload();
        });
      }
    }, seconds * 1000);
  }
})();
