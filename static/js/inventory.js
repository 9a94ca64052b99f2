/* AsiriaPOS stock pages. Loaded by templates/inventory/layout.html; no inline scripts (CSP).
 * Behaviour hangs on data- attributes, so fragments swapped in by htmx get it too. */
(function () {
  "use strict";

  // <input type="checkbox" data-check-all="ids">: tick or untick every "ids" box of its form.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.checkAll) return;
    var scope = box.form || document;
    scope.querySelectorAll('input[type="checkbox"][name="' + box.dataset.checkAll + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });

  function scanBox() {
    return document.querySelector("[data-scan-box]");
  }

  function backToScanning() {
    var box = scanBox();
    if (box) {
      box.value = "";
      box.focus({ preventScroll: true });
    }
  }

  // Count sheet: Enter in a counted box saves it (htmx posts on "change") and goes back to the scan box,
  // ready for the next barcode.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !(input instanceof HTMLInputElement) || !input.hasAttribute("data-count-input")) return;
    event.preventDefault();
    input.dispatchEvent(new Event("change", { bubbles: true }));
    backToScanning();
  });

  // After a scan the server names the line it found (HX-Trigger-After-Settle: countLineScanned).
  document.body.addEventListener("countLineScanned", function (event) {
    var detail = event.detail || {};
    var row = document.getElementById("count-line-" + detail.line);
    if (!row) return;
    row.scrollIntoView({ block: "center", behavior: "smooth" });
    if (detail.add_one) {
      backToScanning(); // counting by scanning: stay in the scan box
      return;
    }
    var input = row.querySelector("[data-count-input]");
    var box = scanBox();
    if (box) box.value = "";
    if (input) {
      input.focus({ preventScroll: true });
      input.select();
    }
  });

  document.body.addEventListener("countScanFailed", function () {
    var box = scanBox();
    if (box) box.select();
  });
})();
