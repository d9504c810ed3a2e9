/* Dispatch overview: trend lines (resumption, recovery, utilisation, power index, reporting rate)
   drawn with ECharts from the JSON the page embeds (#trend-data, written by Django's json_script).
   Rates are percentages; the power index is an index with the baseline at 100, on the same axis. */
(function () {
  "use strict";
  var el = document.getElementById("trend-chart");
  var source = document.getElementById("trend-data");
  if (!el || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    color: ["#1e3a8a", "#b91c1c", "#0e7490", "#a16207", "#64748b"],
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v.toFixed(1); } },
    legend: { top: 0 },
    grid: { left: 48, right: 24, top: 40, bottom: 56 },
    xAxis: { type: "category", data: data.dates, boundaryGap: false },
    yAxis: { type: "value", min: 0, axisLabel: { formatter: "{value}" } },
    dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
    series: data.series.map(function (s, i) {
      var line = { name: s.name, type: "line", data: s.data, showSymbol: false, connectNulls: false };
      if (i === 0) {  // the 100 line: full resumption, and the power baseline
        line.markLine = { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#94a3b8" },
                          label: { show: false }, data: [{ yAxis: 100 }] };
      }
      return line;
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
  // printing: draw at the paper width so the chart is not cut off
  window.addEventListener("beforeprint", function () { chart.resize(); });
})();
