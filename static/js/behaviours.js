// Small page behaviours declared in markup, so no page needs inline script (the
// Content-Security-Policy allows script from our own static files only):
//   <form data-confirm="Restart Kilimani?">   asks before submitting
//   <select data-submit-on-change>             submits its form when changed
//   <button data-copy="#selector">             copies that element's text
//   <input type=checkbox data-check-all="x">   ticks or unticks every [data-area="x"] box, and
//                                              shows whether all of them are ticked
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
  function areaBoxes(area) {
    return document.querySelectorAll('input[data-area="' + area + '"]');
  }
  function showArea(area) {
    var boxes = areaBoxes(area), ticked = 0, all = document.querySelector('[data-check-all="' + area + '"]');
    boxes.forEach(function (box) { if (box.checked) ticked += 1; });
    if (all) { all.checked = ticked === boxes.length; all.indeterminate = ticked > 0 && ticked < boxes.length; }
    var count = document.querySelector('[data-area-count="' + area + '"]');
    if (count) count.textContent = ticked + " of " + boxes.length;
  }
  document.addEventListener("change", function (e) {
    var all = e.target.closest("[data-check-all]");
    if (all) areaBoxes(all.dataset.checkAll).forEach(function (box) { box.checked = all.checked; });
    var area = all ? all.dataset.checkAll : e.target.dataset && e.target.dataset.area;
    if (area) showArea(area);
  });
  document.querySelectorAll("[data-check-all]").forEach(function (all) { showArea(all.dataset.checkAll); });
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var text = document.querySelector(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; },
                                             function () { button.textContent = "Select and copy"; });
  });
})();
