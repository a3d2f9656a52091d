// A provisioning run's page: the run's own websocket says when a step ends, and the progress
// partial is fetched again (htmx). Without websockets the partial's 3 s poll does the same.
(function () {
  "use strict";
  var socket = null;
  function watch() {
    var progress = document.getElementById("progress");
    if (!progress || !progress.dataset.provisioningSocket || socket || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + progress.dataset.provisioningSocket);
    socket.onmessage = function (e) {
      var message;
      try { message = JSON.parse(e.data); } catch (err) { return; }
      if (message.event === "live.connected") return;
      var current = document.getElementById("progress");
      if (current && window.htmx) window.htmx.trigger(current, "live-refresh");
      if (message.event === "provisioning.finished") socket.close();
    };
    socket.onclose = function () { socket = null; };
  }
  watch();
  // The refreshed partial replaces the element; a retry starts a new run with a new socket.
  document.body.addEventListener("htmx:afterSwap", watch);
})();
