// A router page's live traffic: asks /routers/<id>/traffic/ every few seconds and draws the last
// five minutes of rates, starting from the minute checks' last points so the graph is never an empty
// box. Each point sits at its own time; the axes give the scale (a round top rate) and the times, in
// the business's time zone and 24-hour like every other time on the page. Stops asking while the tab
// is hidden; says so when the router doesn't answer.
(function () {
  "use strict";
  var panel = document.querySelector("[data-traffic-url]");
  if (!panel || !window.fetch) return;
  var url = panel.dataset.trafficUrl;
  var state = panel.querySelector("[data-traffic-state]");
  var lines = { rx: panel.querySelector('[data-line="rx"]'), tx: panel.querySelector('[data-line="tx"]') };
  var ports = panel.querySelector("[data-traffic-ports]");
  var zone = panel.dataset.timeZone || undefined;
  var start = document.getElementById("traffic-start");
  var points = start ? JSON.parse(start.textContent) : [];
  var SPAN = 5 * 60 * 1000, EVERY = 5000, WIDTH = 600, HEIGHT = 160;
  var top = panel.querySelector("[data-axis-top]"), middle = panel.querySelector("[data-axis-middle]");
  var times = panel.querySelectorAll("[data-axis-times] span");

  function clock(moment, seconds) {
    var format = { timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: false };
    if (seconds) format.second = "2-digit";
    try {
      return moment.toLocaleTimeString("en-GB", format);
    } catch (unknownZone) { // a browser without that zone's data: its own zone, still 24-hour
      delete format.timeZone;
      return moment.toLocaleTimeString("en-GB", format);
    }
  }

  function ceiling(value) { // 1, 2 or 5 x 10^n: the axis reads in round rates
    if (value <= 0) return 1000;
    var magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * magnitude >= value) return steps[i] * magnitude;
    return 10 * magnitude;
  }

  function rate(bps) {
    var units = [["Gbps", 1e9], ["Mbps", 1e6], ["kbps", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (bps >= units[i][1]) return (bps / units[i][1]).toFixed(1) + " " + units[i][0];
    }
    return Math.round(bps) + " bps";
  }

  function draw(now) {
    var from = now - SPAN;
    points = points.filter(function (p) { return Date.parse(p.at) >= from - EVERY; });
    var peak = 0;
    points.forEach(function (p) { peak = Math.max(peak, p.rx_bps, p.tx_bps); });
    var high = ceiling(peak);
    ["rx", "tx"].forEach(function (side) {
      lines[side].setAttribute("points", points.map(function (p) {
        var x = Math.max(0, (Date.parse(p.at) - from) / SPAN * WIDTH);
        return x.toFixed(1) + "," + (HEIGHT - Math.min(p[side + "_bps"], high) / high * HEIGHT).toFixed(1);
      }).join(" "));
    });
    top.textContent = rate(high);
    middle.textContent = rate(high / 2);
    for (var i = 0; i < times.length; i++) {
      times[i].textContent = clock(new Date(from + SPAN * i / (times.length - 1)));
    }
  }

  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function show(data) {
    points.push(data);
    panel.querySelector("[data-traffic-rx]").textContent = rate(data.rx_bps);
    panel.querySelector("[data-traffic-tx]").textContent = rate(data.tx_bps);
    ports.replaceChildren.apply(ports, data.interfaces.map(function (port) {
      var row = document.createElement("tr");
      row.append(cell(port.name), cell(port.running ? "up" : "down", port.running ? "" : "muted"),
                 cell(rate(port.rx_bps), "num"), cell(rate(port.tx_bps), "num"));
      return row;
    }));
    state.textContent = "every " + EVERY / 1000 + " s · " + clock(new Date(data.at), true);
    panel.dataset.points = points.length;
    draw(Date.parse(data.at));
  }

  function ask() {
    if (document.hidden) { setTimeout(ask, EVERY); return; }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.detail || response.statusText);
          return body;
        });
      })
      .then(show)
      .catch(function (error) {
        state.textContent = "the router does not answer: " + error.message;
        var row = document.createElement("tr");
        var td = cell("No answer from the router: no live rates.", "muted");
        td.colSpan = 4;
        row.append(td);
        ports.replaceChildren(row);
      })
      .then(function () { setTimeout(ask, EVERY); });
  }
  state.textContent = "connecting…";
  draw(Date.now());
  ask();
})();
