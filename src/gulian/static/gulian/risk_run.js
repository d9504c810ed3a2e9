/* Scenario run page. While the run is going: poll its status URL (JSON) every 2 s, move the
   progress bar, reload when it has finished. When done: ECharts line chart of each chain's output
   (% of baseline per day, the stall threshold dashed) and a bar chart of lost output by region.
   Data from #run-charts (Django's json_script). */
(function () {
  "use strict";
  var card = document.getElementById("run-progress-card");
  if (card) {
    var url = card.getAttribute("data-status-url");
    var poll = function () {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          document.getElementById("run-progress").value = s.progress;
          document.getElementById("run-percent").textContent = Math.round(s.progress * 100) + "%";
          document.getElementById("run-message").textContent = s.message;
          document.getElementById("run-status-label").textContent = s.status_label;
          if (s.finished) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 1000);
  }
  var source = document.getElementById("run-charts");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var curves = document.getElementById("chain-curves");
  if (curves) {
    var chart = echarts.init(curves, null, { renderer: "svg" });
    var series = data.chains.map(function (c) {
      return { name: c.name, type: "line", data: c.curve, showSymbol: false };
    });
    if (series.length) {
      series[0].markLine = { silent: true, symbol: "none", label: { formatter: data.threshold + "%" },
                             lineStyle: { type: "dashed", color: "#94a3b8" }, data: [{ yAxis: data.threshold }] };
    }
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v.toFixed(1) + "%"; } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.days, boundaryGap: false },
      yAxis: { type: "value", min: 0, max: function (v) { return Math.max(100, Math.ceil(v.max)); },
               axisLabel: { formatter: "{value}%" } },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var losses = document.getElementById("region-losses");
  if (losses) {
    var regions = data.regions.slice().reverse();
    var bars = echarts.init(losses, null, { renderer: "svg" });
    bars.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 120, right: 24, top: 8, bottom: 24 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: regions.map(function (r) { return r.name; }) },
      series: [{ type: "bar", data: regions.map(function (r) { return Math.round(r.lost); }),
                 itemStyle: { color: "#b91c1c" } }]
    });
    window.addEventListener("resize", function () { bars.resize(); });
  }
})();
