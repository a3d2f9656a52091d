// The portal's connect page: hand the credentials to the router at once. Without JavaScript (or
// if this does not run) the customer presses the form's Connect button.
(function () {
  "use strict";
  var form = document.getElementById("go");
  if (form) form.submit();
})();
