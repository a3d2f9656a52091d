// Live events for staff pages: one websocket to /ws/admin/, re-rendering what an event names.
// Elements opt in with data-live-events="event.name other.name" and an hx-get that returns
// their fresh partial; htmx fetches it on the "live-refresh" trigger. Pages work without this.
(function () {
  "use strict";
  var indicator = document.querySelector("[data-live-indicator]");
  if (!indicator || !("WebSocket" in window)) return;
  var labels = { connected: "Live", connecting: "Connecting…", offline: "Offline" };
  var retry = 1000;

  function setState(state) {
    indicator.dataset.state = state;
    indicator.textContent = labels[state];
    indicator.title = state === "connected" ? "Receiving live updates" : "Live updates paused";
  }

  function deliver(message) {
    document.dispatchEvent(new CustomEvent("live:event", { detail: message }));
    document.querySelectorAll("[data-live-events]").forEach(function (el) {
      var names = el.dataset.liveEvents.split(/\s+/);
      if (names.indexOf(message.event) !== -1 && window.htmx) window.htmx.trigger(el, "live-refresh");
    });
  }

  function connect() {
    setState("connecting");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/admin/");
    socket.onopen = function () { retry = 1000; };
    socket.onmessage = function (e) {
      var message;
      try { message = JSON.parse(e.data); } catch (err) { return; }
      if (message.event === "live.connected") { setState("connected"); return; }
      deliver(message);
    };
    socket.onclose = function (e) {
      setState("offline");
      if (e.code === 4403) return; // refused: signed out or no access; don't hammer the server
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
