/* Chain page: draws the chain's supply graph with ECharts from the JSON the page embeds
   (#chain-graph-data, written by Django's json_script). Nodes are members sized by baseline
   output and coloured by segment; edges are supply links coloured by scope (市内/省内/省外/境外). */
(function () {
  "use strict";
  var el = document.getElementById("chain-graph");
  var source = document.getElementById("chain-graph-data");
  if (!el || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var L = data.labels || {};
  var palette = ["#1e3a8a", "#0e7490", "#7c3aed", "#be185d", "#4d7c0f", "#a16207", "#475569", "#c2410c"];
  var byId = {};
  data.nodes.forEach(function (n) {
    byId[n.id] = n;
    // only large firms get a permanent label; the rest show theirs on hover
    n.label = { show: n.symbolSize >= 22 };
  });
  var yi = function (v) { return (v / 1e8).toFixed(2); };
  var wan = function (v) { return (v / 1e4).toFixed(1); };
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    color: palette,
    tooltip: {
      confine: true,
      formatter: function (p) {
        if (p.dataType === "node") {
          var d = p.data;
          return "<b>" + echarts.format.encodeHTML(d.name) + "</b><br>" + L.role + "：" + d.role +
            "<br>" + L.region + "：" + echarts.format.encodeHTML(d.region || "") +
            "<br>" + L.output + "：" + yi(d.value);
        }
        if (p.dataType === "edge") {
          var e = p.data, s = byId[e.source], t = byId[e.target];
          return echarts.format.encodeHTML((s ? s.name : "") + " → " + (t ? t.name : "")) +
            "<br>" + L.input + "：" + echarts.format.encodeHTML(e.category || "") +
            "<br>" + L.value + "：" + wan(e.value);
        }
        return "";
      }
    },
    legend: [{ data: data.categories.map(function (c) { return c.name; }), top: 0, type: "scroll" }],
    animationDurationUpdate: 600,
    series: [{
      type: "graph",
      layout: "force",
      roam: true,
      draggable: true,
      top: 40,
      data: data.nodes,
      links: data.links,
      categories: data.categories,
      edgeSymbol: ["none", "arrow"],
      edgeSymbolSize: 5,
      label: { position: "right", fontSize: 11, color: "#1f2937" },
      lineStyle: { opacity: 0.55, width: 1, curveness: 0.15 },
      emphasis: { focus: "adjacency", lineStyle: { width: 2.5, opacity: 0.95 } },
      force: { repulsion: 160, gravity: 0.06, edgeLength: [40, 130], friction: 0.2 }
    }]
  });
  chart.on("click", function (p) {
    if (p.dataType === "node" && p.data.url) { window.location.href = p.data.url; }
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
