// liveloop — the analytics dashboard's charts (Apache ECharts, vendored).
// The data comes from the page's <script type="application/json"
// id="dash-data"> block; names (groups, lives, sources) are drawn on the
// canvas and tooltips use ECharts' rich-text mode, so no data is ever
// parsed as HTML.
(function () {
  "use strict";

  // The period form: typing a day means a custom period.
  var preset = document.querySelector("[data-preset]");
  document.querySelectorAll("[data-custom-day]").forEach(function (inp) {
    inp.addEventListener("change", function () { if (preset) preset.value = "custom"; });
  });

  var src = document.getElementById("dash-data");
  if (!src || typeof window.echarts === "undefined") return;
  var data;
  try {
    data = JSON.parse(src.textContent || "{}") || {};
  } catch (e) {
    return;
  }
  var palette = ["#d6336c", "#7048e8", "#1c7ed6", "#2f9e44", "#f08c00", "#0c8599"];
  var charts = [];

  function draw(el, option) {
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
    return chart;
  }

  function tooltip(trigger) {
    return { trigger: trigger, renderMode: "richText", confine: true };
  }

  function unitSuffix(unit) {
    return unit === "percent" || unit === "%" ? "%" : "";
  }

  function trendOption(tr, key) {
    var ser = tr.series[0];
    tr.series.forEach(function (s) { if (s.key === key) ser = s; });
    var suffix = unitSuffix(ser.unit);
    return {
      color: palette,
      tooltip: tooltip("axis"),
      grid: { left: 8, right: 20, top: 28, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: tr.days, boundaryGap: false },
      yAxis: { type: "value", minInterval: ser.unit === "count" ? 1 : 0, axisLabel: { formatter: "{value}" + suffix } },
      series: [{ name: ser.name, type: "line", data: ser.values, smooth: true, showSymbol: tr.days.length <= 31,
        connectNulls: false, areaStyle: { opacity: 0.12 } }]
    };
  }

  function funnelOption(f) {
    return {
      color: palette,
      tooltip: tooltip("item"),
      series: [{ type: "funnel", sort: "none", left: "8%", width: "84%", top: 10, bottom: 10, minSize: "6%", gap: 2,
        label: { show: true, position: "inside", formatter: "{b}: {c}" },
        data: f.steps.map(function (s) { return { name: s.name, value: s.value }; }) }]
    };
  }

  function heatOption(h, labels) {
    var suffix = unitSuffix(h.unit);
    return {
      tooltip: tooltip("item"),
      grid: { left: 8, right: 16, top: 10, bottom: 72, containLabel: true },
      xAxis: { type: "category", data: h.x, splitArea: { show: true } },
      yAxis: { type: "category", data: h.y, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: h.max > 0 ? h.max : 1, calculable: true, orient: "horizontal", left: "center", bottom: 4,
        itemHeight: 140, formatter: function (v) { return String(Math.round(v)) + suffix; },
        inRange: { color: ["#fff0f6", "#f783ac", "#c2255c"] } },
      series: [{ type: "heatmap", data: h.cells, label: { show: labels,
        formatter: function (p) { return String(p.value[2]) + suffix; } } }]
    };
  }

  function barOption(b) {
    return {
      color: palette,
      tooltip: tooltip("axis"),
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: b.categories, axisLabel: { interval: 0, rotate: b.categories.length > 4 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: b.series.map(function (s) {
        var o = { name: s.name, type: "bar", data: s.values };
        if (s.stack) o.stack = s.stack;
        return o;
      })
    };
  }

  function sparkOption(sp) {
    return {
      color: palette,
      tooltip: tooltip("axis"),
      grid: { left: 2, right: 2, top: 4, bottom: 4 },
      xAxis: { type: "category", show: false, data: sp.days, boundaryGap: false },
      yAxis: { type: "value", show: false, min: 0, max: 100 },
      series: [{ type: "line", data: sp.values, showSymbol: false, lineStyle: { width: 1.5 }, areaStyle: { opacity: 0.15 } }]
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var kind = el.getAttribute("data-chart");
    if (kind === "trend" && data.trend && data.trend.series && data.trend.series.length) {
      var sel = document.querySelector("[data-trend-metric]");
      var field = document.querySelector("[data-metric-field]");
      var chart = draw(el, trendOption(data.trend, sel ? sel.value : data.trend.selected));
      if (sel) {
        sel.addEventListener("change", function () {
          chart.setOption(trendOption(data.trend, sel.value), true);
          if (field) field.value = sel.value;
        });
      }
    } else if (kind === "funnel" && data.funnel) {
      draw(el, funnelOption(data.funnel));
    } else if (kind === "cohorts" && data.cohorts) {
      draw(el, heatOption(data.cohorts, true));
    } else if (kind === "sendtime" && data.sendtime) {
      draw(el, heatOption(data.sendtime, false));
    } else if (kind === "sources" && data.sources) {
      draw(el, barOption(data.sources));
    } else if (kind === "spark" && data.sparks) {
      var sp = data.sparks[Number(el.getAttribute("data-spark"))];
      if (sp) draw(el, sparkOption(sp));
    }
  });

  var pending = 0;
  window.addEventListener("resize", function () {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
