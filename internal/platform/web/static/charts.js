/* Shequ charts: draws Apache ECharts charts from data the page carries, without inline
   code (the CSP allows none).

   <div class="chart" data-chart="ID" role="img" aria-label="…" hidden></div>
   <script type="application/json" id="ID">{"kind":"bar", …}</script>

   The <script type="application/json"> is data: the browser never runs it. A spec is
     kind        "bar" (vertical bars, the default), "hbar" (horizontal bars, long labels) or "pie"
     categories  axis labels
     series      [{name, type ("bar" or "line"; default the kind's), data: [numbers or null]}]
                 for a pie: [{name, pie: [{name, value}]}]
     percent     values are percentages (axis and tooltips get a %)
     title       the chart's accessible name
   The chart's element is hidden until drawn, so without JavaScript (or ECharts) only the
   tables beside it show; once drawn, a <details class="fig-table"> in the same section is
   closed (the table stays one click away). Works again after htmx swaps. */
(function () {
  'use strict';
  var doc = document;
  var drawn = [];

  function spec(id) {
    var el = id && doc.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  function fmt(percent) {
    return function (v) {
      if (v === null || v === undefined || v === '-') return '—';
      return percent ? v + '%' : String(v);
    };
  }

  function option(s) {
    var kind = s.kind || 'bar';
    var series = s.series || [];
    var o = {
      aria: { enabled: true },
      animation: false,
      tooltip: { trigger: kind === 'pie' ? 'item' : 'axis', confine: true },
      legend: { show: series.length > 1 || kind === 'pie', top: 0, type: 'scroll' },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true }
    };
    if (kind === 'pie') {
      var pie = series[0] || { pie: [] };
      o.legend.show = true;
      o.series = [{
        name: pie.name, type: 'pie', radius: ['35%', '65%'], top: 24,
        data: pie.pie || [],
        label: { formatter: '{b}\n{d}%' }
      }];
      return o;
    }
    var f = fmt(!!s.percent);
    o.tooltip.valueFormatter = f;
    var cat = { type: 'category', data: s.categories || [], axisLabel: { hideOverlap: true } };
    var val = { type: 'value', minInterval: s.percent ? 0 : 1, axisLabel: { formatter: f } };
    if (s.percent) val.max = 100;
    if (kind === 'hbar') {
      if (s.percent) o.grid.right = 48; // room for the labels of full bars
      cat.inverse = true;
      cat.axisLabel.width = 120;
      cat.axisLabel.overflow = 'truncate';
      o.xAxis = val;
      o.yAxis = cat;
    } else {
      o.xAxis = cat;
      o.yAxis = val;
    }
    o.series = series.map(function (x) {
      var type = x.type || 'bar';
      var out = { name: x.name, type: type, data: x.data || [], connectNulls: false };
      if (type === 'bar') out.barMaxWidth = 28;
      if (type === 'line') out.symbolSize = 6;
      if (s.percent) out.label = { show: true, position: kind === 'hbar' ? 'right' : 'top', formatter: function (p) { return f(p.value); } };
      return out;
    });
    return o;
  }

  function draw(root) {
    if (!window.echarts) return;
    var nodes = (root || doc).querySelectorAll('[data-chart]');
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.getAttribute('data-chart-drawn')) continue;
      var s = spec(el.getAttribute('data-chart'));
      if (!s) continue;
      el.hidden = false;
      if (s.kind === 'hbar') {
        var n = (s.categories || []).length;
        el.style.height = Math.max(200, 28 * n * Math.max(1, (s.series || []).length) + 60) + 'px';
      }
      try {
        var c = window.echarts.init(el, null, { renderer: 'canvas' });
        c.setOption(option(s));
        drawn.push(c);
      } catch (e) {
        el.hidden = true;
        continue;
      }
      el.setAttribute('data-chart-drawn', '1');
      var box = el.closest ? el.closest('section') : null;
      var details = box && box.querySelector('details.fig-table');
      if (details) details.open = false;
    }
  }

  var timer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      for (var i = 0; i < drawn.length; i++) {
        if (!drawn[i].isDisposed()) drawn[i].resize();
      }
    }, 150);
  });
  doc.addEventListener('htmx:afterSettle', function (e) { draw(e.target); });
  if (doc.readyState === 'loading') {
    doc.addEventListener('DOMContentLoaded', function () { draw(doc); });
  } else {
    draw(doc);
  }
})();
