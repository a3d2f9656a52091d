// The portal's waiting page: reload the moment the payment settles; the page then shows the
// outcome (and logs the device in). Without JavaScript a <meta refresh> does the same every 5 s.
(function () {
  "use strict";
  var box = document.getElementById("waiting"), done = false;
  if (!box) return;
  function reload() { if (!done) { done = true; location.reload(); } }
  // The moment the payment settles, over the websocket (events for this customer's account).
  try {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
                           "/ws/portal/payments/" + box.dataset.token + "/");
    ws.onmessage = function (m) {
      var e = JSON.parse(m.data);
      if ((e.event === "payment.completed" || e.event === "payment.failed") && String(e.data.id) === box.dataset.payment) reload();
    };
  } catch (err) {}
  // Networks that block websockets: ask the status API every few seconds (status only: the
  // credentials come with the reloaded page).
  setInterval(function () {
    if (!box.dataset.checkout) return;
    fetch("/api/purchase/mpesa/status?checkout_request_id=" + encodeURIComponent(box.dataset.checkout), {cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s && s.status !== "pending") reload(); })
      .catch(function () {});
  }, 4000);
})();
