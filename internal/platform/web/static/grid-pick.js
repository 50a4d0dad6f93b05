/* The map picker of the grid worker's report page (internal/grid/http_report.go,
   templates/grid_report.html): "在地图上选点" opens a small Leaflet map of the chosen grid (its
   outline and household dots from /grid/map/data.json), and a tap on the map fills the form's
   lat/lon. Without this script the phone's position and typed coordinates still work.

   <button id="pick" data-config="pick-config" data-leaflet-js="…" data-leaflet-css="…">
   <script type="application/json" id="pick-config">{"data": …, "units": …, "msgs": …}</script>

   - Leaflet (vendor/leaflet) is loaded only when the map is first opened, from the URLs in the
     button's data- attributes, so the report page stays light on a cheap phone.
   - The map is centred on the form's place: cfg.units[place] lists the places whose data may
     centre it, in order (the grid, then its village); the first with an outline is fitted, else
     the first with household points. There are no tiles unless the deployment configures them
     (cfg.tiles): the outlines and dots lie on a blank canvas and nothing is asked of any other
     host.
   - A tap sets a draggable marker and fills lat/lon in the map's own system: WGS-84, or GCJ-02
     when the tiles are drawn in it (cfg.gcj02; every point of the data is then GCJ-02 too), sent
     as coords=gcj02 for the server to convert. The fields are ordinary form fields, so the point
     is kept with the offline draft like the phone's position.
   - A tap on a household dot also links the household (the form's household radio).
   - The map needs the network for its data: offline, the button says so and the phone's position
     and typed coordinates remain. Once loaded, the map keeps working offline.
   grid-report.js announces positions it sets itself (the phone's, a loaded draft, an emptied
   form) with a "report:position" event on the form. No inline code (CSP); texts come from the
   configuration; feature texts are only ever set as textContent. */
(function () {
  'use strict';
  var doc = document;
  var btn = doc.getElementById('pick');
  var form = doc.getElementById('report-form');
  var panel = doc.getElementById('pick-panel');
  var mapEl = doc.getElementById('pick-map');
  if (!btn || !form || !panel || !mapEl || !window.fetch || !window.Promise) return;
  var cfg;
  try {
    cfg = JSON.parse(doc.getElementById(btn.getAttribute('data-config') || 'pick-config').textContent);
  } catch (e) {
    return;
  }
  var M = cfg.msgs || {};
  var mapSys = cfg.gcj02 ? 'gcj02' : 'wgs84';
  var status = doc.getElementById('locate-status'); // the position's status line, shared with the phone's position
  var doneBtn = doc.getElementById('pick-done');
  var colours = { outline: '#1f5fbf', household: '#5c6b7a' }; // as the map page's legend (grid.css)

  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1);
    return String(s || '').replace(/%[sd]/g, function () { return args.length ? String(args.shift()) : ''; });
  }
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function say(t) { if (status) status.textContent = t || ''; }
  function field(name) { return form.querySelector('[name="' + name + '"]:not([type="hidden"])') || form.querySelector('[name="' + name + '"]'); }
  function place() {
    var d = form.querySelector('[name="division"]');
    return d ? d.value : '';
  }
  function sources() { return (cfg.units || {})[place()] || []; }
  function offline() { return navigator.onLine === false; }

  // ---- coordinate systems (the server's internal/platform/geo, for showing a position typed
  // or located in another system than the map's; a picked point is always sent in the map's) ----

  var AXIS = 6378245.0, EE = 0.00669342162296594323, XPI = Math.PI * 3000.0 / 180.0;
  function inChina(lat, lon) { return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271; }
  function tLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLon(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }
  function toGCJ(lat, lon) {
    if (!inChina(lat, lon)) return [lat, lon];
    var dLat = tLat(lon - 105.0, lat - 35.0), dLon = tLon(lon - 105.0, lat - 35.0);
    var rad = lat / 180.0 * Math.PI;
    var magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((AXIS * (1 - EE)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180.0) / (AXIS / sq * Math.cos(rad) * Math.PI);
    return [lat + dLat, lon + dLon];
  }
  function fromGCJ(lat, lon) {
    if (!inChina(lat, lon)) return [lat, lon];
    var w = [lat, lon];
    for (var i = 0; i < 30; i++) {
      var g = toGCJ(w[0], w[1]);
      var dLat = g[0] - lat, dLon = g[1] - lon;
      w = [w[0] - dLat, w[1] - dLon];
      if (Math.abs(dLat) < 1e-9 && Math.abs(dLon) < 1e-9) break;
    }
    return w;
  }
  function bdToGCJ(lat, lon) {
    var x = lon - 0.0065, y = lat - 0.006;
    var z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * XPI);
    var theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * XPI);
    return [z * Math.sin(theta), z * Math.cos(theta)];
  }
  // onMap converts a position given in sys to the map's system.
  function onMap(lat, lon, sys) {
    sys = String(sys || 'wgs84').toLowerCase();
    if (sys === 'gcj02' || sys === 'bd09') {
      var g = sys === 'bd09' ? bdToGCJ(lat, lon) : [lat, lon];
      return cfg.gcj02 ? g : fromGCJ(g[0], g[1]);
    }
    return cfg.gcj02 ? toGCJ(lat, lon) : [lat, lon];
  }
  // current is the form's position on the map ([lat, lon]), or null.
  function current() {
    var la = field('lat'), lo = field('lon'), sys = field('coords');
    if (!la || !lo || la.value.trim() === '' || lo.value.trim() === '') return null;
    var lat = Number(la.value.trim()), lon = Number(lo.value.trim());
    if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) return null;
    return onMap(lat, lon, sys ? sys.value : 'wgs84');
  }

  // ---- Leaflet, loaded on demand ----

  var leaflet = null; // the promise of window.L
  function loadLeaflet() {
    if (window.L) return Promise.resolve(window.L);
    if (leaflet) return leaflet;
    var added = [];
    function load(node) {
      added.push(node);
      return new Promise(function (resolve, reject) {
        node.onload = resolve;
        node.onerror = reject;
        doc.head.appendChild(node);
      });
    }
    var css = el('link');
    css.rel = 'stylesheet';
    css.href = btn.getAttribute('data-leaflet-css');
    var js = el('script');
    js.src = btn.getAttribute('data-leaflet-js');
    js.async = true;
    leaflet = Promise.all([load(css), load(js)]).then(function () {
      if (!window.L) throw new Error('no Leaflet');
      return window.L;
    });
    leaflet.catch(function () { // offline or a broken connection: the next tap tries again
      leaflet = null;
      added.forEach(function (n) { if (n.parentNode) n.parentNode.removeChild(n); });
    });
    return leaflet;
  }

  // ---- the map ----

  var L = null, map = null, drawn = null, marker = null;
  var shownPlace = null; // the place whose data is drawn
  var cache = {}; // map data by place

  function ensureMap() {
    if (map) {
      map.invalidateSize();
      return;
    }
    map = L.map(mapEl, {
      renderer: L.canvas({ padding: 0.5, tolerance: 10 }), // household dots are easy to hit with a finger
      zoomSnap: 0.5, minZoom: 3, maxZoom: 19, attributionControl: !!cfg.tiles
    });
    if (cfg.tiles) {
      var opts = { attribution: cfg.attribution || '', maxZoom: 19 };
      if (/t\{s\}\./.test(cfg.tiles)) opts.subdomains = '01234567'; // Tianditu: t0 … t7
      L.tileLayer(cfg.tiles, opts).addTo(map);
      map.attributionControl.setPrefix(false);
    }
    map.setView([35, 105], 4);
    drawn = L.featureGroup().addTo(map);
    map.on('click', function (e) { pick(map.wrapLatLng(e.latlng)); });
  }

  function data(code) {
    if (cache[code]) return Promise.resolve(cache[code]);
    var url = cfg.data + (cfg.data.indexOf('?') < 0 ? '?' : '&') + 'unit=' + encodeURIComponent(code);
    return window.fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/geo+json, application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (fc) {
        cache[code] = fc;
        return fc;
      });
  }

  // draw adds a place's outlines and household dots to the map and returns the bounds that
  // centre it: the outlines', else the households', else null.
  function draw(fc) {
    var outlines = L.featureGroup(), households = L.featureGroup();
    ((fc && fc.features) || []).forEach(function (f) {
      var pr = f.properties || {}, g = f.geometry || {};
      if (pr.layer === 'outlines') {
        L.geoJSON(f, {
          interactive: false,
          style: { color: colours.outline, weight: 2, opacity: 0.9, fillColor: colours.outline, fillOpacity: 0.06 }
        }).addTo(outlines);
      } else if (pr.layer === 'households' && g.type === 'Point' && g.coordinates) {
        var ll = L.latLng(g.coordinates[1], g.coordinates[0]);
        L.circleMarker(ll, { radius: 5, weight: 1, color: colours.household, fillColor: colours.household, fillOpacity: 0.75 })
          .on('click', function (e) {
            L.DomEvent.stopPropagation(e);
            pick(ll, pr);
          })
          .addTo(households);
      }
    });
    outlines.addTo(drawn);
    households.addTo(drawn);
    var b = outlines.getLayers().length ? outlines.getBounds() : null;
    if ((!b || !b.isValid()) && households.getLayers().length) b = households.getBounds();
    return b && b.isValid() ? b : null;
  }

  // show draws the place's map and centres it; it resolves to false when there is nothing to
  // pick on (no outline, no household and no tiles).
  function show(code) {
    var list = (cfg.units || {})[code] || [];
    if (shownPlace === code) {
      syncMarker();
      return Promise.resolve(true);
    }
    drawn.clearLayers();
    var i = 0;
    function next() {
      if (i >= list.length) return Promise.resolve(null);
      var first = i === 0;
      return data(list[i++]).then(function (fc) {
        return draw(fc) || next();
      }, function (err) {
        if (first) throw err;
        return null; // the village's data is only a fallback
      });
    }
    return next().then(function (bounds) {
      shownPlace = bounds || cfg.tiles ? code : null; // nothing to pick on: asked again next time
      var cur = current();
      if (bounds) map.fitBounds(bounds, { padding: [16, 16], maxZoom: 18 });
      else if (cur) map.setView(cur, 17);
      syncMarker();
      return !!(bounds || cfg.tiles);
    });
  }

  function setMarker(ll) {
    if (marker) {
      marker.setLatLng(ll);
      return;
    }
    marker = L.marker(ll, { draggable: true, keyboard: false, title: M.current, alt: M.current }).addTo(map);
    marker.on('dragend', function () { pick(map.wrapLatLng(marker.getLatLng())); });
  }
  function syncMarker() {
    if (!map) return;
    var cur = current();
    if (cur) {
      setMarker(cur);
    } else if (marker) {
      map.removeLayer(marker);
      marker = null;
    }
  }

  // pick puts the marker at ll (in the map's system) and fills the form with it; hh is the
  // household whose dot was tapped.
  function pick(ll, hh) {
    setMarker(ll);
    var lat = ll.lat.toFixed(6), lon = ll.lng.toFixed(6);
    var la = field('lat'), lo = field('lon'), sys = field('coords');
    la.value = lat;
    lo.value = lon;
    if (sys) sys.value = mapSys;
    clearPositionErrors();
    [la, lo, sys].forEach(function (e) { if (e) e.dispatchEvent(new Event('change', { bubbles: true })); });
    var text = fmt(M.picked, lat, lon);
    if (hh && hh.id) {
      var label = linkHousehold(hh);
      if (label) text += ' ' + fmt(M.linked, label);
    }
    say(text);
  }

  // clearPositionErrors hides the position's messages (the server's and grid-report.js's).
  function clearPositionErrors() {
    ['lat', 'lon'].forEach(function (n) { var e = field(n); if (e) e.removeAttribute('aria-invalid'); });
    var pe = doc.getElementById('position-error');
    if (pe) pe.hidden = true;
    if (!status) return;
    status.removeAttribute('aria-invalid');
    var next = status.nextElementSibling;
    while (next && next.classList.contains('field-error')) {
      var gone = next;
      next = next.nextElementSibling;
      if (gone.classList.contains('js-error')) gone.parentNode.removeChild(gone); else gone.hidden = true;
    }
  }

  // linkHousehold checks the household's radio in the form, adding one when the form has none
  // (marked .pick-household, removed with the next empty form); it returns the household's label.
  function linkHousehold(hh) {
    var box = doc.getElementById('household-box');
    if (!box) return '';
    var value = String(hh.id);
    var label = hh.address || '#' + value;
    function radios() {
      return Array.prototype.filter.call(doc.querySelectorAll('input[type="radio"][name="household"]'),
        function (r) { return r.form === form; });
    }
    var radio = radios().filter(function (r) { return r.value === value; })[0];
    if (!radio) {
      var old = box.querySelectorAll('.pick-household'); // the household linked by an earlier tap
      for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
      radio = el('input');
      radio.type = 'radio';
      radio.name = 'household';
      radio.value = value;
      var item = el('label', 'radio pick-household');
      item.appendChild(radio);
      item.appendChild(doc.createTextNode(' '));
      item.appendChild(el('span', null, label));
      var head = box.querySelector('p.label');
      if (head) { // the form already offers a household: add this one under the heading
        box.insertBefore(item, head.nextSibling);
      } else {
        var first = box.firstChild;
        box.insertBefore(el('p', 'label pick-household', M.household), first);
        box.insertBefore(item, first);
        if (!radios().some(function (r) { return r.value === ''; })) {
          var none = el('label', 'radio pick-household');
          var nr = el('input');
          nr.type = 'radio';
          nr.name = 'household';
          nr.value = '';
          none.appendChild(nr);
          none.appendChild(doc.createTextNode(' '));
          none.appendChild(el('span', null, M.noHousehold));
          box.insertBefore(none, first);
        }
      }
    }
    radio.checked = true;
    radio.dispatchEvent(new Event('change', { bubbles: true }));
    var addr = field('address');
    if (addr && !addr.value.trim() && hh.address) addr.value = hh.address;
    return label;
  }

  // ---- the button and the panel ----

  function isOpen() { return !panel.hidden; }
  function refreshButton() {
    btn.hidden = sources().length === 0;
    if (btn.hidden && isOpen()) close();
    btn.setAttribute('aria-expanded', isOpen() ? 'true' : 'false');
    btn.textContent = isOpen() ? M.close : (!window.L && offline() ? M.offline : M.open);
  }
  function close() {
    panel.hidden = true;
    refreshButton();
  }
  function openManual() {
    var det = form.querySelector('.report-manual');
    if (det) det.open = true;
  }
  function failed() {
    close();
    say(offline() ? M.needNetwork : M.failed);
    openManual();
  }
  var busy = false;
  function open() {
    if (busy) return;
    if (isOpen()) {
      close();
      return;
    }
    if ((!window.L || !cache[(sources()[0])]) && offline()) {
      say(M.needNetwork);
      openManual();
      return;
    }
    busy = true;
    panel.hidden = false;
    refreshButton();
    var before = status ? status.textContent : ''; // what the position line said (the phone's position, a pick)
    say(M.loading);
    loadLeaflet()
      .then(function (l) {
        L = l;
        ensureMap();
        return show(place());
      })
      .then(function (ok) {
        if (!ok) {
          close();
          say(M.empty);
          openManual();
          return;
        }
        say(current() ? before : '');
        if (panel.scrollIntoView) panel.scrollIntoView({ block: 'nearest' });
      })
      .catch(failed)
      .then(function () { busy = false; });
  }

  btn.addEventListener('click', open);
  if (doneBtn) {
    doneBtn.addEventListener('click', function () {
      close();
      if (btn.scrollIntoView) btn.scrollIntoView({ block: 'nearest' });
    });
  }
  window.addEventListener('online', refreshButton);
  window.addEventListener('offline', refreshButton);
  form.addEventListener('change', function (e) {
    var n = e.target && e.target.name;
    if (n === 'division') {
      refreshButton();
      if (isOpen() && map && sources().length) {
        show(place()).then(function (ok) { if (!ok) { close(); say(M.empty); } }, failed);
      }
    } else if ((n === 'lat' || n === 'lon' || n === 'coords') && e.isTrusted) {
      syncMarker(); // typed by hand
    }
  });
  form.addEventListener('report:position', function (e) {
    if (e.detail && e.detail.why === 'reset') {
      var old = doc.querySelectorAll('#household-box .pick-household');
      for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    }
    syncMarker();
  });
  refreshButton();
})();
