/* Scenario run page. While the run is going: poll its status URL (JSON) every 2 s, move the
   progress bar, reload when it has finished. When done: ECharts line chart of each chain's output
   (% of baseline per day, the stall threshold dashed), maps of lost output (China by province, the
   run's province by prefecture; geoJSON shipped in static/gulian/maps, same origin) and a bar chart
   of lost output by region (with the table, the accessible alternative to the maps).
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
  var maps = data.maps;
  if (maps) {
    lossMap(document.getElementById("loss-map-china"), "china", maps.china_url, maps.china);
    if (maps.province) {
      lossMap(document.getElementById("loss-map-province"), "gulian-" + maps.province.code, maps.province.url,
              maps.province.data);
    }
  }

  function yuan(v) { return Math.round(v).toLocaleString("zh-CN") + " 元"; }

  /* Draw one choropleth of lost output. Regions are matched by GB/T 2260 code: the feature's id
     (ECharts' China/province files carry the adcode there), and the series item takes the feature's
     own name so that ECharts' fixes for the "china" map (南海诸岛 inset, label offsets) still apply;
     tooltips show our GB/T 2260 names. A region with no firm in the network stays grey. */
  function lossMap(el, mapName, url, rows) {
    if (!el) { return; }
    fetch(url, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
        return r.json();
      })
      .then(function (geo) {
        var nameOfCode = {};
        geo.features.forEach(function (f) {
          var code = String(f.id || (f.properties && (f.properties.adcode || f.properties.id)) || "");
          if (code) { nameOfCode[code] = f.properties.name; }
        });
        if (!echarts.getMap(mapName)) { echarts.registerMap(mapName, geo); }
        var items = [], max = 0, unmatched = [];
        rows.forEach(function (r) {
          var feature = nameOfCode[r.code];
          if (!feature) { unmatched.push(r.code); return; }
          items.push({ name: feature, value: Math.round(r.lost), code: r.code, label: r.name });
          max = Math.max(max, r.lost);
        });
        if (unmatched.length && window.console) { console.warn("no map region for", unmatched.join(", ")); }
        el.setAttribute("data-regions", String(items.length));
        var chart = echarts.init(el, null, { renderer: "svg" });
        chart.setOption({
          animation: false,
          aria: { enabled: true },
          tooltip: {
            trigger: "item",
            formatter: function (p) {
              return p.data ? p.data.label + "<br>" + yuan(p.data.value) : p.name + "<br>—";
            }
          },
          visualMap: {
            type: "continuous", min: 0, max: Math.max(max, 1), left: 8, bottom: 8, calculable: true,
            text: ["多", "少"], itemHeight: 100,
            inRange: { color: ["#fef2f2", "#fca5a5", "#dc2626", "#7f1d1d"] },
            formatter: function (v) { return Math.round(v).toLocaleString("zh-CN"); }
          },
          series: [{
            type: "map", map: mapName, roam: true, data: items,
            label: { show: mapName !== "china", fontSize: 11,
                     formatter: function (p) { return p.data ? p.data.label : p.name; } },
            emphasis: { label: { show: true, formatter: function (p) { return p.data ? p.data.label : p.name; } } },
            itemStyle: { areaColor: "#e5e7eb", borderColor: "#ffffff", borderWidth: 0.6 }
          }]
        });
        el.setAttribute("data-ready", "1");
        window.addEventListener("resize", function () { chart.resize(); });
      })
      .catch(function (err) {
        el.setAttribute("data-error", String(err));
        el.textContent = "地图无法加载 / map unavailable";
        if (window.console) { console.error(err); }
      });
  }
})();
