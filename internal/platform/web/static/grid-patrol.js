// The patrol visit form (internal/grid, grid_patrol_new.html): the "use my
// position" button fills the hidden lat/lon fields from the phone's
// location (WGS-84, as browsers give it). Without this script, or where the
// browser refuses (plain HTTP, permission denied), the visit is saved
// without a position.
(function () {
  "use strict";
  document.querySelectorAll("[data-patrol-locate]").forEach(function (box) {
    var button = box.querySelector("button.patrol-locate");
    var hint = box.querySelector(".hint");
    var lat = box.querySelector('input[name="lat"]');
    var lon = box.querySelector('input[name="lon"]');
    if (!button || !navigator.geolocation || !window.isSecureContext) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lon.value = pos.coords.longitude.toFixed(6);
        hint.textContent = button.dataset.located + " (±" + Math.round(pos.coords.accuracy) + " m)";
        button.disabled = false;
      }, function () {
        hint.textContent = button.dataset.failed;
        button.disabled = false;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  });
})();
