/* Shequ grid map: draws grid outlines, households and incidents with Leaflet (vendor/leaflet)
   from the GeoJSON of /grid/map/data.json, without inline code (the CSP allows none).

   <div id="grid-map" data-config="gm-config"></div>
   <script type="application/json" id="gm-config">{"data": "/grid/map/data.json?unit=…", …}</script>

   The configuration is data: data (the GeoJSON URL), layers (those checked), tiles and
   attribution (only when the deployment configures a tile server; otherwise the map has no
   background but a light grey canvas and asks nothing of any other host), gcj02 (the server
   has already converted every position for tiles drawn in GCJ-02), labels (texts in the
   page's language). Point colours come from the legend's swatches (grid.css), so the legend
   and the map cannot disagree; a swatch whose colour is translucent is ignored. Outlines are
   drawn with their own solid stroke and a light fill, whatever the outline swatch looks like
   (its background is a pale tint of the stroke). Features carry a "layer" property: outlines, households,
   incidents. Popups are built as DOM nodes with textContent: no feature text is ever parsed
   as HTML, and links are followed only when they are paths of this server. */
(function () {
  'use strict';
  var doc = document;

  var fallback = {
    reported: '#6b5bd2', registered: '#1f5fbf', dispatched: '#c77700', handled: '#138a96',
    verified: '#138a96', closed: '#2e7d32', rejected: '#8a8f98', suspended: '#8a5a00',
    overdue: '#c62828', household: '#5c6b7a'
  };

  // The outlines' style: a solid line that reads over tiles and the blank canvas alike, and
  // a fill light enough to leave the points and the tiles beneath it visible.
  var outlineStyle = { color: '#1f5fbf', weight: 2.5, opacity: 1, fillColor: '#1f5fbf', fillOpacity: 0.08 };

  // opaque reports whether a computed CSS colour is fully opaque: "rgb(r, g, b)", not
  // "rgba(r, g, b, .12)" nor "rgb(r g b / 12%)".
  function opaque(c) {
    if (!c || c === 'transparent') return false;
    var m = /^rgba?\(([^)]*)\)$/.exec(c);
    if (!m) return true; // a hex or named colour
    var p = m[1].split(/[\s,\/]+/).filter(Boolean);
    if (p.length < 4) return true;
    var a = p[3];
    return a.charAt(a.length - 1) === '%' ? parseFloat(a) >= 100 : parseFloat(a) >= 1;
  }

  // colours reads the point colours from the legend's swatches.
  function colours() {
    var out = {};
    Object.keys(fallback).forEach(function (k) { out[k] = fallback[k]; });
    var swatches = doc.querySelectorAll('.gm-swatch[data-state]');
    for (var i = 0; i < swatches.length; i++) {
      var key = swatches[i].getAttribute('data-state');
      if (!Object.prototype.hasOwnProperty.call(fallback, key)) continue; // the outline swatch among them
      var c = window.getComputedStyle(swatches[i]).backgroundColor;
      if (opaque(c)) out[key] = c;
    }
    return out;
  }

  function localPath(href) {
    return typeof href === 'string' && href.charAt(0) === '/' && href.charAt(1) !== '/' ? href : '';
  }

  // popup builds the content of a popup: a title, lines of text, a link.
  function popup(title, lines, href, linkText) {
    var box = doc.createElement('div');
    box.className = 'gm-popup';
    var h = doc.createElement('strong');
    h.textContent = title || '';
    box.appendChild(h);
    (lines || []).forEach(function (t) {
      if (!t) return;
      var p = doc.createElement('div');
      p.textContent = t;
      box.appendChild(p);
    });
    var path = localPath(href);
    if (path) {
      var a = doc.createElement('a');
      a.href = path;
      a.textContent = linkText || path;
      a.className = 'gm-popup-link';
      box.appendChild(a);
    }
    return box;
  }

  function init() {
    var el = doc.getElementById('grid-map');
    if (!el || el.getAttribute('data-ready') || !window.L) return;
    var cfgEl = doc.getElementById(el.getAttribute('data-config') || 'gm-config');
    var cfg;
    try {
      cfg = JSON.parse(cfgEl.textContent);
    } catch (e) {
      return;
    }
    el.setAttribute('data-ready', '1');
    var L = window.L;
    var labels = cfg.labels || {};
    var status = doc.getElementById('gm-status');
    function say(t) {
      if (status) status.textContent = t || '';
    }
    var col = colours();

    var map = L.map(el, { preferCanvas: true, zoomSnap: 0.5, attributionControl: !!cfg.tiles });
    if (cfg.tiles) {
      var opts = { attribution: cfg.attribution || '', maxZoom: 19 };
      if (/t\{s\}\./.test(cfg.tiles)) opts.subdomains = '01234567'; // Tianditu: t0 … t7
      L.tileLayer(cfg.tiles, opts).addTo(map);
      map.attributionControl.setPrefix(false);
    } else {
      el.classList.add('gm-blank');
    }
    map.setView([35, 105], 4);

    var groups = { outlines: L.featureGroup(), households: L.featureGroup(), incidents: L.featureGroup() };
    var order = ['outlines', 'households', 'incidents'];
    var boxes = doc.querySelectorAll('#gm-form input[data-layer]');
    function shown(layer) {
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].getAttribute('data-layer') === layer) return boxes[i].checked && !boxes[i].disabled;
      }
      return true;
    }
    function sync() {
      order.forEach(function (k) {
        if (shown(k)) {
          if (!map.hasLayer(groups[k])) groups[k].addTo(map);
        } else if (map.hasLayer(groups[k])) {
          map.removeLayer(groups[k]);
        }
      });
      // points above outlines, incidents on top
      if (map.hasLayer(groups.households)) groups.households.bringToFront();
      if (map.hasLayer(groups.incidents)) groups.incidents.bringToFront();
    }
    for (var i = 0; i < boxes.length; i++) boxes[i].addEventListener('change', sync);

    function draw(fc) {
      var feats = (fc && fc.features) || [];
      feats.forEach(function (f) {
        var pr = f.properties || {};
        var g = f.geometry || {};
        if (pr.layer === 'outlines') {
          L.geoJSON(f, { style: outlineStyle }).bindPopup(popup(pr.name, [], pr.href, labels.grid)).addTo(groups.outlines);
          return;
        }
        if (g.type !== 'Point' || !g.coordinates) return;
        var ll = [g.coordinates[1], g.coordinates[0]];
        if (pr.layer === 'households') {
          L.circleMarker(ll, { radius: 4, weight: 1, color: col.household, fillColor: col.household, fillOpacity: 0.7 })
            .bindPopup(popup(pr.address, [], pr.href, labels.household)).addTo(groups.households);
        } else if (pr.layer === 'incidents') {
          var c = pr.overdue ? col.overdue : (col[pr.state] || col.reported);
          var lines = [pr.number, pr.state_name + (pr.overdue ? ' · ' + (labels.overdue || '') : '')];
          L.circleMarker(ll, {
            radius: pr.overdue ? 9 : 7, weight: pr.overdue ? 3 : 2, color: c, fillColor: c,
            fillOpacity: pr.open ? 0.85 : 0.35, dashArray: pr.open ? null : '3 3'
          }).bindPopup(popup(pr.category, lines, pr.href, labels.incident)).addTo(groups.incidents);
        }
      });
      sync();
      var bounds = null;
      order.forEach(function (k) {
        if (!map.hasLayer(groups[k]) || groups[k].getLayers().length === 0) return;
        var b = groups[k].getBounds();
        if (b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      });
      if (bounds) {
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 18 });
        say(fc.truncated && fc.truncated.length ? labels.truncated : '');
      } else {
        say(labels.empty);
      }
    }

    var layers = [];
    for (var j = 0; j < boxes.length; j++) {
      if (!boxes[j].disabled) layers.push(boxes[j].getAttribute('data-layer'));
    }
    say(labels.loading);
    var url = cfg.data + (cfg.data.indexOf('?') < 0 ? '?' : '&') + 'layers=' + encodeURIComponent(layers.join(','));
    window.fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/geo+json, application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(draw)
      .catch(function () { say(labels.failed); });
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init);
  else init();
})();
