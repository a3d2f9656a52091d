// Report charts, drawn with the vendored uPlot from the JSON each carries beside its table (the
// table holds the same figures for screen readers and the downloads). Days arrive as UTC midnights
// and are shown as those calendar days; times are shown in the business's zone. Up to two months
// of points are bars, more a line. A chart takes its box's width and redraws when the box changes
// size (a phone turned sideways); charts that arrive in an HTMX swap (the dashboard's live parts)
// are drawn when they land.
(function () {
  "use strict";
  var COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#d97706"];
  var figure = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  var DAY = 86400, DAY_STEPS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 182 * DAY, 364 * DAY];

  var HOUR_STEPS = [3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, DAY];
  var WHOLE_STEPS = []; // counts, shillings and megabytes tick at whole numbers: 1, 2, 5, 10, 20, 50 ...
  for (var power = 1; power < 1e13; power *= 10) WHOLE_STEPS.push(power, 2 * power, 5 * power);

  function clock(seconds, zone) { // 24-hour, in the business's zone, as every other time on the pages
    var format = { timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: false };
    try {
      return new Date(seconds * 1000).toLocaleTimeString("en-GB", format);
    } catch (unknownZone) {
      delete format.timeZone;
      return new Date(seconds * 1000).toLocaleTimeString("en-GB", format);
    }
  }

  function dayName(seconds) { // a day's UTC midnight as that calendar day: "28 Nov"
    return new Date(seconds * 1000).toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "short" });
  }

  function short(value) {
    if (value == null) return "";
    var size = Math.abs(value);
    if (size >= 1e6) return figure.format(value / 1e6) + "M";
    if (size >= 1e4) return figure.format(value / 1e3) + "k";
    return figure.format(value);
  }

  function heightFor(width) {
    return Math.max(180, Math.min(280, Math.round(width * 0.45)));
  }

  function draw(box) {
    var source = document.getElementById(box.dataset.reportChart);
    if (!source || box.dataset.drawn) return;
    box.dataset.drawn = "1";
    var data = JSON.parse(source.textContent);
    var time = data.kind === "time";
    var daily = data.zone === "Etc/UTC";
    // Bars for categories (the first series only: bars side by side would not read on a phone) and
    // for up to two months of days of one series; lines otherwise.
    var asBars = !time || (daily && data.x.length <= 62 && data.series.length === 1);
    var drawn = time ? data.series : data.series.slice(0, 1);
    var last = data.x.length - 1;
    var bars = uPlot.paths.bars({ size: [0.7, 60] });
    var step = data.x.length > 1 ? data.x[1] - data.x[0] : (time ? 86400 : 1);
    var label = function (u, v) { return data.labels[Math.round(v)] || ""; };

    var series = [{
      label: time ? (daily ? "Day" : "Time") : "",
      value: time ? (daily ? "{YYYY}-{MM}-{DD}" : "{DD} {MMM} {HH}:{mm}") : label
    }];
    drawn.forEach(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      series.push({
        label: s.label, stroke: colour, width: 2, value: function (u, v) { return short(v); },
        fill: asBars ? colour + "cc" : colour + "22", paths: asBars ? bars : undefined,
        points: { show: !asBars && data.x.length < 40 }
      });
    });
    var width = box.clientWidth || 320;
    var options = {
      width: width, height: heightFor(width), series: series,
      tzDate: function (seconds) { return uPlot.tzDate(new Date(seconds * 1000), data.zone || "Etc/UTC"); },
      scales: {
        x: { time: time, range: asBars ? function () { return [data.x[0] - 0.6 * step, data.x[last] + 0.6 * step]; } : undefined },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }
      },
      axes: [
        !time ? { space: 30, incrs: [1, 2, 5, 10, 20, 50], values: function (u, splits) { return splits.map(function (v) { return label(u, v); }); } }
          : daily ? { space: 48, incrs: DAY_STEPS, values: function (u, splits) { return splits.map(dayName); } }
          : { space: 60, incrs: HOUR_STEPS, values: function (u, splits) { return splits.map(function (s) { return clock(s, data.zone); }); } },
        { size: 56, incrs: WHOLE_STEPS, values: function (u, splits) { return splits.map(short); } }
      ],
      legend: { show: true, live: true },
      cursor: { points: { show: false }, drag: { x: false, y: false } }
    };
    if (!asBars && data.x.length === 1) { // one point: a span around it, not uPlot's guess of years
      options.scales.x.range = function () { return [data.x[0] - (daily ? DAY : 3600), data.x[0] + (daily ? DAY : 3600)]; };
    }
    var chart = new uPlot(options, [data.x].concat(drawn.map(function (s) { return s.values; })), box);
    window.addEventListener("resize", function () {
      if (!box.isConnected || box.clientWidth === width) return;
      width = box.clientWidth;
      chart.setSize({ width: width, height: heightFor(width) });
    });
  }

  function drawAll(root) {
    if (!window.uPlot) return;
    (root.querySelectorAll ? root : document).querySelectorAll("[data-report-chart]").forEach(draw);
  }

  drawAll(document);
  document.body.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
