/* Nowcast page: one sparkline per predicted stall — the owner's projected output relative to its
   baseline (1 = normal) from today (day 0) to the horizon, with the stall threshold (90%) dashed and the
   stall day marked. Data from #nowcast-curves (Django's json_script). */
(function () {
  "use strict";
  var source = document.getElementById("nowcast-curves");
  if (!source || !window.echarts) { return; }
  JSON.parse(source.textContent).forEach(function (row) {
    var el = document.getElementById("curve-" + row.id);
    if (!el) { return; }
    var chart = echarts.init(el, null, { renderer: "svg" });
    var days = row.curve.map(function (_v, i) { return i; });
    chart.setOption({
      animation: false,
      grid: { left: 2, right: 2, top: 4, bottom: 4 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return (v * 100).toFixed(0) + "%"; } },
      xAxis: { type: "category", data: days, show: false, boundaryGap: false },
      yAxis: { type: "value", min: 0, max: 1.05, show: false },
      series: [{
        type: "line", data: row.curve, showSymbol: false, lineStyle: { width: 1.5, color: "#1e3a8a" },
        areaStyle: { color: "rgba(30,58,138,.08)" },
        markLine: { silent: true, symbol: "none", label: { show: false },
                    lineStyle: { type: "dashed", color: "#94a3b8" }, data: [{ yAxis: row.threshold }] },
        markPoint: row.days >= 0 ? { symbol: "circle", symbolSize: 6, itemStyle: { color: "#b91c1c" }, label: { show: false },
                                     data: [{ coord: [row.days, row.curve[row.days]] }] } : undefined
      }]
    });
  });
})();
