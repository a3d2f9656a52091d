// Small page behaviours declared in markup, so no page needs inline script (the
// Content-Security-Policy allows script from our own static files only):
//   <form data-confirm="Restart Kilimani?">   asks before submitting
//   <select data-submit-on-change>             submits its form when changed
//   <button data-copy="#selector">             copies that element's text
// Without JavaScript the forms still submit and the text can be selected by hand.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
  });
  document.addEventListener("change", function (e) {
    var field = e.target.closest("[data-submit-on-change]");
    if (field && field.form) field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
  });
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var text = document.querySelector(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; },
                                             function () { button.textContent = "Select and copy"; });
  });
})();
