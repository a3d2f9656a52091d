// A router page's live traffic: asks /routers/<id>/traffic/ every few seconds and draws the last
// few minutes of rates. Stops asking while the tab is hidden; says so when the router doesn't answer.
(function () {
  "use strict";
  var panel = document.querySelector("[data-traffic-url]");
  if (!panel || !window.fetch) return;
  var url = panel.dataset.trafficUrl;
  var state = panel.querySelector("[data-traffic-state]");
  var lines = { rx: panel.querySelector('[data-line="rx"]'), tx: panel.querySelector('[data-line="tx"]') };
  var ports = panel.querySelector("[data-traffic-ports]");
  var points = [];
  var KEEP = 60, EVERY = 5000, WIDTH = 600, HEIGHT = 160;

  function rate(bps) {
    var units = [["Gbps", 1e9], ["Mbps", 1e6], ["kbps", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (bps >= units[i][1]) return (bps / units[i][1]).toFixed(1) + " " + units[i][0];
    }
    return Math.round(bps) + " bps";
  }

  function draw() {
    var peak = 1;
    points.forEach(function (p) { peak = Math.max(peak, p.rx_bps, p.tx_bps); });
    var step = WIDTH / Math.max(KEEP - 1, 1);
    var offset = (KEEP - points.length) * step; // new points enter on the right
    ["rx", "tx"].forEach(function (side) {
      lines[side].setAttribute("points", points.map(function (p, i) {
        return (offset + i * step).toFixed(1) + "," + (HEIGHT - p[side + "_bps"] / peak * HEIGHT).toFixed(1);
      }).join(" "));
    });
  }

  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function show(data) {
    points.push(data);
    if (points.length > KEEP) points.shift();
    panel.querySelector("[data-traffic-rx]").textContent = rate(data.rx_bps);
    panel.querySelector("[data-traffic-tx]").textContent = rate(data.tx_bps);
    ports.replaceChildren.apply(ports, data.interfaces.map(function (port) {
      var row = document.createElement("tr");
      row.append(cell(port.name), cell(port.running ? "up" : "down", port.running ? "" : "muted"),
                 cell(rate(port.rx_bps), "num"), cell(rate(port.tx_bps), "num"));
      return row;
    }));
    state.textContent = "every " + EVERY / 1000 + " s · " + new Date(data.at).toLocaleTimeString();
    panel.dataset.points = points.length;
    draw();
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
      .catch(function (error) { state.textContent = "the router does not answer: " + error.message; })
      .then(function () { setTimeout(ask, EVERY); });
  }
  state.textContent = "connecting…";
  ask();
})();
