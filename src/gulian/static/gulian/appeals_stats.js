/* Appeal statistics: bar charts (by category, by region, satisfaction) and a weekly line, drawn with
   ECharts from the JSON the page embeds (#stats-data, written by Django's json_script). The same
   figures are in the tables under each chart, so the page reads without scripts too. */
(function () {
  "use strict";
  var source = document.getElementById("stats-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];

  function draw(id, block, type, color, rotate) {
    var el = document.getElementById(id);
    if (!el || !block) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: [color],
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 16, bottom: rotate ? 72 : 32 },
      xAxis: { type: "category", data: block.labels, axisLabel: { rotate: rotate || 0, interval: 0 },
               boundaryGap: type !== "line" },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.names.count, type: type, data: block.values, showSymbol: type === "line",
                 barMaxWidth: 36 }]
    });
    charts.push(chart);
  }

  draw("chart-category", data.category, "bar", "#1e3a8a", 35);
  draw("chart-region", data.region, "bar", "#0e7490", 35);
  draw("chart-weekly", data.weekly, "line", "#b91c1c", 0);
  draw("chart-ratings", data.ratings, "bar", "#a16207", 0);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
