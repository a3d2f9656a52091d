// A report's chart, drawn with the vendored uPlot from the JSON the page carries beside its table
// (the table holds the same figures for screen readers and the downloads). Days arrive as UTC
// midnights and are shown as those calendar days; up to two months of points are bars, more a line.
// The chart takes its box's width and redraws when the box changes size (a phone turned sideways).
(function () {
  "use strict";
  var box = document.querySelector("[data-report-chart]");
  if (!box || !window.uPlot) return;
  var source = document.getElementById(box.dataset.reportChart);
  if (!source) return;
  var data = JSON.parse(source.textContent);
  var COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#d97706"];
  var time = data.kind === "time";
  var asBars = !time || data.x.length <= 62;
  var bars = uPlot.paths.bars({ size: [0.7, 60] });
  var figure = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

  function short(value) {
    if (value == null) return "";
    var size = Math.abs(value);
    if (size >= 1e6) return figure.format(value / 1e6) + "M";
    if (size >= 1e4) return figure.format(value / 1e3) + "k";
    return figure.format(value);
  }

  function label(u, value) {
    return data.labels[Math.round(value)] || "";
  }

  var series = [{ label: time ? "Day" : "", value: time ? "{YYYY}-{MM}-{DD}" : label }];
  data.series.forEach(function (s, i) {
    var colour = COLOURS[i % COLOURS.length];
    series.push({
      label: s.label, stroke: colour, width: 2, value: function (u, v) { return short(v); },
      fill: asBars ? colour + "cc" : colour + "22", paths: asBars ? bars : undefined,
      points: { show: !asBars && data.x.length < 40 }
    });
  });

  var options = {
    width: box.clientWidth || 320,
    height: Math.max(180, Math.min(280, Math.round((box.clientWidth || 320) * 0.45))),
    series: series,
    tzDate: function (seconds) { return uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"); },
    scales: { x: { time: time, range: asBars ? function (u, min, max) { return [min - 0.6 * step(), max + 0.6 * step()]; } : undefined },
              y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
    axes: [
      time ? { space: 60 } : { space: 30, values: function (u, splits) { return splits.map(function (v) { return label(u, v); }); } },
      { size: 56, values: function (u, splits) { return splits.map(short); } }
    ],
    legend: { show: true, live: true },
    cursor: { points: { show: false }, drag: { x: false, y: false } }
  };

  function step() {
    if (data.x.length < 2) return time ? 86400 : 1;
    return data.x[1] - data.x[0];
  }

  var values = [data.x].concat(data.series.map(function (s) { return s.values; }));
  var chart = new uPlot(options, values, box);
  var width = box.clientWidth;
  window.addEventListener("resize", function () {
    if (box.clientWidth === width) return;
    width = box.clientWidth;
    chart.setSize({ width: width, height: Math.max(180, Math.min(280, Math.round(width * 0.45))) });
  });
})();
