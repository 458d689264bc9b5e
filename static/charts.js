// The progress page's charts, drawn with Apache ECharts from /api/v1/progress/charts. Every
// bar and slice links to the activity list it counts. Tooltips are drawn on the canvas
// (renderMode "richText") because the CSP allows no inline styles.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("charts");
  if (!box || !window.echarts) return;
  var status = document.getElementById("charts-status");
  var palette = ["#b3001b", "#d9822b", "#2b6cb0", "#2f855a", "#805ad5", "#c05621", "#319795", "#718096"];

  function draw(id, bars, kind) {
    var el = document.getElementById(id);
    if (!el) return;
    if (!bars.length) { el.textContent = el.getAttribute("data-title") + "：暂无数据"; el.className += " empty"; return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var title = { text: el.getAttribute("data-title"), left: 0, textStyle: { fontSize: 15 } };
    var tooltip = { renderMode: "richText", formatter: function (p) {
      var b = bars[p.dataIndex];
      return b.label + "：" + b.value + (kind === "completion" ? "%" : " 场") + (b.detail ? "\n" + b.detail : "");
    } };
    var option;
    if (kind === "pie") {
      option = { title: title, tooltip: tooltip, color: palette,
        series: [{ type: "pie", radius: ["35%", "65%"], top: 30,
          label: { formatter: "{b}\n{c}" },
          data: bars.map(function (b) { return { name: b.label, value: b.value }; }) }] };
    } else {
      var horizontal = kind === "completion";
      var names = bars.map(function (b) { return b.label; });
      var values = bars.map(function (b) { return b.value; });
      var category = { type: "category", data: names, axisLabel: { interval: 0, fontSize: 11 } };
      var value = { type: "value", minInterval: 1 };
      if (horizontal) value.max = function (v) { return Math.max(100, v.max); };
      if (horizontal) category.inverse = true;
      option = { title: title, tooltip: tooltip, color: palette,
        grid: { left: horizontal ? 110 : 40, right: 20, top: 40, bottom: horizontal ? 20 : 40 },
        xAxis: horizontal ? value : category, yAxis: horizontal ? category : value,
        series: [{ type: "bar", data: values, label: { show: true, position: horizontal ? "right" : "top",
          formatter: horizontal ? "{c}%" : "{c}" } }] };
      if (horizontal) el.style.height = Math.max(240, 26 * bars.length + 60) + "px";
      chart.resize();
    }
    chart.setOption(option);
    chart.on("click", function (p) {
      var b = bars[p.dataIndex];
      if (b && b.link) window.location.href = b.link;
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  fetch(box.getAttribute("data-source"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
    .then(function (c) {
      status.textContent = "";
      draw("chart-completion", c.completion, "completion");
      draw("chart-weeks", c.weeks, "bar");
      draw("chart-formats", c.formats, "pie");
      draw("chart-categories", c.categories, "pie");
      box.setAttribute("data-ready", "1");
    })
    .catch(function () { status.textContent = "图表加载失败，请刷新页面重试。表格中的数字不受影响。"; });
});
