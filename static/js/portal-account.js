// The customer's account pages: when something happens on the account (a payment settles, a
// session is disconnected, staff answer a ticket) the parts marked data-live are fetched again
// and swapped in place, so forms being typed into are left alone. Events come over the websocket
// of the signed-in customer's account; where websockets are blocked, the page asks every 10 s.
// The portal's status page (no account session, data-poll-only) just asks every 10 s.
(function () {
  "use strict";
  var root = document.getElementById("account-live");
  if (!root) return;
  var busy = false, again = false, socketOpen = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(root.dataset.liveUrl, {cache: "no-store", credentials: "same-origin", headers: {"X-Live": "1"}})
      .then(function (r) {
        // Sent to the sign-in page: signed out here or by a password change elsewhere; go there.
        if (r.redirected && r.url.indexOf("/portal/account/sign-in/") !== -1) { location.assign(r.url); return null; }
        return r.ok && !r.redirected ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (old) {
          var next = fresh.getElementById(old.id);
          if (next && next.innerHTML !== old.innerHTML) old.innerHTML = next.innerHTML;
        });
      })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  function connect() {
    try {
      var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/portal/account/");
      ws.onopen = function () { socketOpen = true; };
      ws.onmessage = function (m) {
        var e = JSON.parse(m.data);
        if (e.event !== "live.connected") refresh();
      };
      ws.onclose = function (c) {
        socketOpen = false;
        if (c.code !== 4403) setTimeout(connect, 5000);  // 4403: signed out; the poll shows it
      };
    } catch (err) {}
  }
  if (!("pollOnly" in root.dataset)) connect();
  setInterval(function () { if (!socketOpen) refresh(); }, 10000);
})();
