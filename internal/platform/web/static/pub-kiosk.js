// The portal's kiosk mode (internal/disclosure: /public/{code}/kiosk): on a
// touch screen left alone, go back to the start page after the idle time
// (data-idle seconds on <body>, 90 by default) without a touch, a key or a
// scroll. On the start page itself the return reloads it, so the figures
// stay current. No inline script (the CSP): this file is served from
// /static/ and loaded with defer.
(function () {
  "use strict";
  var body = document.body;
  var home = body && body.getAttribute("data-home");
  if (!home) {
    return;
  }
  var seconds = parseInt(body.getAttribute("data-idle"), 10);
  if (!(seconds > 0)) {
    seconds = 90;
  }
  var timer = 0;
  function back() {
    if (window.location.pathname === home && window.location.search === "") {
      window.scrollTo(0, 0);
      window.location.reload();
    } else {
      window.location.assign(home);
    }
  }
  function touched() {
    window.clearTimeout(timer);
    timer = window.setTimeout(back, seconds * 1000);
  }
  ["pointerdown", "touchstart", "keydown", "scroll", "wheel"].forEach(function (ev) {
    window.addEventListener(ev, touched, { passive: true });
  });
  touched();
})();
