// The review report's charts (复盘), drawn with ECharts from the JSON block
// #report-data. The same script runs on the console page and inlined in the
// standalone download. Names (groups, lives, sources) reach the charts as
// data only: drawn on the canvas, tooltips in rich-text mode — never HTML.
(function () {
  'use strict';

  var palette = ['#d6336c', '#7048e8', '#1c7ed6', '#2f9e44', '#e8590c', '#868e96'];

  function base() {
    return {
      color: palette,
      animation: false,
      tooltip: { renderMode: 'richText', confine: true },
      grid: { left: 48, right: 16, top: 36, bottom: 28, containLabel: true }
    };
  }

  function suffix(unit) { return unit === 'percent' ? '%' : ''; }

  function series(d, key) {
    var s = (d.series || []).filter(function (x) { return x.key === key; })[0];
    if (!s || !s.days.length) return null;
    var o = base();
    o.tooltip.trigger = 'axis';
    o.legend = { data: [d.current, d.previous], top: 0 };
    o.xAxis = { type: 'category', data: s.days, axisLabel: { formatter: function (v) { return v.slice(5); } } };
    o.yAxis = { type: 'value', axisLabel: { formatter: '{value}' + suffix(s.unit) } };
    o.series = [
      { name: d.current, type: 'line', data: s.cur, showSymbol: false },
      { name: d.previous, type: 'line', data: s.prev, showSymbol: false, lineStyle: { type: 'dashed', width: 1 } }
    ];
    return o;
  }

  function bars(b, horizontal) {
    if (!b || !b.values || !b.values.length) return null;
    var o = base();
    o.tooltip.trigger = 'axis';
    var cat = { type: 'category', data: b.labels }, val = { type: 'value', minInterval: 1 };
    o.xAxis = horizontal ? val : cat;
    o.yAxis = horizontal ? cat : val;
    if (horizontal) { cat.inverse = true; o.grid.left = 8; }
    o.series = [{ type: 'bar', data: b.values, barMaxWidth: 28 }];
    return o;
  }

  function heatmap(h) {
    if (!h || !h.cells || !h.cells.length) return null;
    var o = base();
    o.tooltip.position = 'top';
    o.xAxis = { type: 'category', data: h.hours, splitArea: { show: true } };
    o.yAxis = { type: 'category', data: h.days, inverse: true, splitArea: { show: true } };
    o.visualMap = { min: 0, max: Math.max(1, h.max), calculable: false, orient: 'horizontal', left: 'center', bottom: 0,
      inRange: { color: ['#f8f0fc', '#d6336c'] }, show: false };
    o.series = [{ type: 'heatmap', data: h.cells }];
    return o;
  }

  function health(list) {
    if (!list || !list.length || !list[0].weeks) return null;
    var o = base();
    o.tooltip.trigger = 'axis';
    o.legend = { data: list.map(function (g) { return g.name; }), top: 0, type: 'scroll' };
    o.xAxis = { type: 'category', data: list[0].weeks };
    o.yAxis = { type: 'value', min: 0, max: 100 };
    o.series = list.map(function (g) { return { name: g.name, type: 'line', data: g.scores }; });
    return o;
  }

  function option(node, d) {
    switch (node.getAttribute('data-chart')) {
      case 'series': return series(d, node.getAttribute('data-key'));
      case 'funnel': return bars(d.funnel, true);
      case 'heatmap': return heatmap(d.heatmap);
      case 'sources': return bars(d.sources, true);
      case 'content': return bars(d.content, true);
      case 'health': return health(d.health);
    }
    return null;
  }

  function draw() {
    var block = document.getElementById('report-data');
    if (!block || typeof echarts === 'undefined') return;
    var d = JSON.parse(block.textContent);
    var charts = [];
    document.querySelectorAll('[data-chart]').forEach(function (node) {
      var o = option(node, d);
      if (!o) return;
      var c = echarts.init(node, null, { renderer: 'canvas' });
      c.setOption(o);
      charts.push(c);
    });
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
