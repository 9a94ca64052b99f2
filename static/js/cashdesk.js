/* AsiriaPOS cash desk: the denomination count adds itself up; the M-Pesa panel's small helpers.
 * No inline scripts anywhere (Content Security Policy): behaviour hangs on data- attributes and is
 * attached again after every htmx swap. */
(function () {
  "use strict";
  if (window.AsiriaCashdesk) return; // included by the till's pay panel too: attach once
  window.AsiriaCashdesk = true;

  function formatKes(value) {
    return value.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  // <form data-denomination-form> with <input data-denomination="1000"> and <span data-denomination-total>
  function sumDenominations(form) {
    var total = 0;
    form.querySelectorAll("input[data-denomination]").forEach(function (input) {
      var count = parseInt(input.value, 10);
      var value = parseInt(input.dataset.denomination, 10);
      if (!isNaN(count) && count > 0 && !isNaN(value)) total += count * value;
    });
    form.querySelectorAll("[data-denomination-total]").forEach(function (el) { el.textContent = formatKes(total); });
    return total;
  }

  function attach(root) {
    (root || document).querySelectorAll("form[data-denomination-form]").forEach(function (form) {
      if (form.dataset.denominationBound) return;
      form.dataset.denominationBound = "1";
      form.addEventListener("input", function () { sumDenominations(form); });
      sumDenominations(form);
    });
  }

  // Enter in the M-Pesa block must not submit the till's pay form around it: it sends the request
  // (or checks the code) instead.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches("[data-mpesa-input]")) return;
    event.preventDefault();
    var panel = input.closest("#mpesa-panel");
    if (!panel) return;
    var button = input.name === "mpesa_code"
      ? panel.querySelector("[data-testid=mpesa-code-check]")
      : panel.querySelector("[data-mpesa-send]");
    if (button) button.click();
  }, true);

  // Buttons that fill a field: <button data-fill-target="#id_phone" data-fill-value="0708374149">
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-target]");
    if (!button) return;
    var target = document.querySelector(button.dataset.fillTarget);
    if (target) {
      target.value = button.dataset.fillValue || "";
      target.focus();
    }
  });

  // Inside the till's pay panel: a partial M-Pesa payment changes what is still to pay, so the panel is
  // reloaded; once M-Pesa completes the sale, the pay form around it is locked (it would only be refused).
  function tillPayForm() {
    var panel = document.getElementById("mpesa-panel");
    var form = panel && panel.closest("[data-pay-form]");
    return form ? { panel: panel, form: form } : null;
  }
  document.addEventListener("mpesaPaid", function (event) {
    var till = tillPayForm();
    if (!till || (event.detail && event.detail.complete)) return;
    var url = till.panel.dataset.tillPayUrl;
    var target = document.getElementById("till-dialog-content");
    if (url && target && window.htmx) window.htmx.ajax("GET", url, { target: target, swap: "innerHTML" });
  });
  document.addEventListener("saleCompleted", function () {
    var till = tillPayForm();
    if (!till) return;
    till.form.querySelectorAll("input, select, textarea, button").forEach(function (el) {
      if (!till.panel.contains(el)) el.disabled = true;
    });
    till.form.querySelectorAll("[data-fill-target], .quick-cash").forEach(function (el) { el.classList.add("d-none"); });
    till.form.dataset.paidByMpesa = "1";
  });

  document.addEventListener("DOMContentLoaded", function () { attach(document); });
  document.addEventListener("htmx:afterSettle", function (event) { attach(event.target); });
})();
