/* AsiriaPOS till: keyboard shortcuts, the one dialog, keypads, the pay panel's server-worked figures, camera scanning.
 * No inline scripts anywhere (Content Security Policy): behaviour hangs on data- attributes and is looked
 * up at event time, so fragments swapped in by htmx need no re-binding. The server decides everything;
 * this file only makes it quick to drive by scanner, keyboard and finger. */
(function () {
  "use strict";

  var dialogEl = function () { return document.getElementById("till-dialog"); };
  var searchEl = function () { return document.querySelector("[data-till-search]"); };

  function modal(el) { return el && window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(el) : null; }
  function dialogOpen() { return !!document.querySelector(".modal.show"); }
  function visible(el) { return !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length)); }

  function focusSearch(select) {
    var search = searchEl();
    if (search && !dialogOpen()) {
      search.focus({ preventScroll: true });
      if (select) search.select();
    }
  }

  // ------------------------------------------------------------------ the dialog
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "till-dialog-content") {
      var instance = modal(dialogEl());
      if (instance && !dialogEl().classList.contains("show")) instance.show();
      focusDialog();
    }
    if (target && target.id === "cart") markSelected();
  });

  function focusDialog() {
    var content = document.getElementById("till-dialog-content");
    if (!content) return;
    var pane = content.querySelector(".tab-pane.active") || content;
    var el = pane.querySelector(".is-invalid") || pane.querySelector("[data-dialog-focus]") ||
      pane.querySelector("input[name=pin]") || pane.querySelector("[data-keypad-input]") ||
      pane.querySelector("input:not([type=hidden]):not([type=radio]), select, textarea");
    window.setTimeout(function () { if (el) { el.focus(); if (el.select) el.select(); } }, 180);
  }

  document.addEventListener("shown.bs.modal", function (event) {
    if (event.target.id === "till-dialog") focusDialog();
  });
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id === "till-dialog") {
      document.getElementById("till-dialog-content").innerHTML = "";
      focusSearch(false);
    }
    if (event.target.matches("[data-camera-dialog]")) stopCamera();
  });
  document.addEventListener("shown.bs.tab", function () { focusDialog(); });
  document.body.addEventListener("till:dialog-close", function () {
    var instance = modal(dialogEl());
    if (instance) instance.hide();
  });

  // ------------------------------------------------------------------ errors: a short low beep
  var audio = null;
  document.body.addEventListener("till:error", function () {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "square"; osc.frequency.value = 220; gain.gain.value = 0.05;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.18);
    } catch (e) { /* no sound: the message is on screen anyway */ }
  });

  // ------------------------------------------------------------------ scanning and searching
  // Scans and Enter in the scan box go through scanner.js (its queue clears the box and the list).
  // A search answer that comes back after the box changed (a scan cleared it, more letters were
  // typed) is stale: it must not open the list again over the cart.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    var config = event.detail.requestConfig;
    if (!elt || !elt.matches || !elt.matches("[data-till-search]") || !config || !config.formData) return;
    var asked = config.formData.get("q");
    if (asked !== null && String(asked).trim() !== elt.value.trim()) event.detail.shouldSwap = false;
  });

  // Under two letters the server answers nothing: no request (a scan has just cleared the box).
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.matches || !elt.matches("[data-till-search]") || elt.value.trim().length >= 2) return;
    event.preventDefault();
    var box = document.querySelector("[data-search-results]");
    if (box) box.innerHTML = "";
  });

  // A search result tapped: the list closes (it hid the cart) and the box starts fresh.
  function resultForm(event) {
    var elt = event.detail.elt;
    return elt && elt.closest ? elt.closest("[data-result-form]") : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = resultForm(event) && document.querySelector("[data-search-results]");
    if (box) box.classList.add("d-none");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!resultForm(event)) return;
    var box = document.querySelector("[data-search-results]");
    if (box) { box.innerHTML = ""; box.classList.remove("d-none"); }
    var search = searchEl();
    if (search) search.value = "";
  });

  function results() { return Array.prototype.slice.call(document.querySelectorAll("[data-search-result]")); }

  function moveInResults(step) {
    var list = results();
    if (!list.length) return false;
    var index = list.indexOf(document.activeElement);
    var next = index + step;
    if (next < 0) { focusSearch(false); return true; }
    if (next >= list.length) next = list.length - 1;
    list[next].focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var box = document.querySelector("[data-search-results]");
    if (box && box.innerHTML.trim() && !event.target.closest("[data-scan-form]")) box.innerHTML = "";
    var line = event.target.closest("[data-line]");
    if (line && !event.target.closest("button, a, input")) select(line.dataset.line);
  });

  // ------------------------------------------------------------------ the selected cart line
  function lines() { return Array.prototype.slice.call(document.querySelectorAll("[data-line]")); }

  function markSelected() {
    var cart = document.getElementById("cart");
    if (!cart) return;
    var id = cart.dataset.selectedLine;
    lines().forEach(function (li) { li.classList.toggle("is-selected", li.dataset.line === id); });
    var current = cart.querySelector(".is-selected");
    if (current) current.scrollIntoView({ block: "nearest" });
  }

  function select(id) {
    var cart = document.getElementById("cart");
    if (!cart) return;
    cart.dataset.selectedLine = id;
    markSelected();
  }

  function selectedLine() {
    var cart = document.getElementById("cart");
    return cart ? cart.querySelector(".is-selected") : null;
  }

  function moveSelection(step) {
    var all = lines();
    if (!all.length) return;
    var index = all.indexOf(selectedLine());
    var next = Math.min(Math.max(index + step, 0), all.length - 1);
    select(all[next].dataset.line);
  }

  function clickIn(el, selector) {
    var target = el && el.querySelector(selector);
    if (target) target.click();
    return !!target;
  }

  // ------------------------------------------------------------------ keyboard
  document.addEventListener("keydown", function (event) {
    var key = event.key;
    var active = document.activeElement;
    var inSearch = active && active.matches && active.matches("[data-till-search]");
    var typing = active && active.matches && active.matches("input, textarea, select") && !inSearch;

    if (/^F\d{1,2}$/.test(key)) {
      if (key === "F2") { event.preventDefault(); focusSearch(true); return; }
      if (dialogOpen()) return;
      var button = document.querySelector('[data-shortcut="' + key + '"]');
      if (button && visible(button)) { event.preventDefault(); button.click(); }
      return;
    }
    if (!document.querySelector("[data-till]")) {
      // other till pages (receipt): Enter = new sale, P = print
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      // Enter on the Print or PDF button just used is "next sale" too, never a second copy: the browser
      // may give a download link its focus back when the download ends.
      var done = !active || active === document.body || (active.matches && active.matches("[data-print], a[download]"));
      if (key === "Enter" && done) { clickIn(document, '[data-shortcut="Enter"]') && event.preventDefault(); }
      if ((key === "p" || key === "P") && document.querySelector("[data-print]")) { event.preventDefault(); window.print(); }
      return;
    }
    if (dialogOpen() || typing || event.ctrlKey || event.metaKey || event.altKey) return;

    var searchEmpty = !inSearch || !active.value;
    if (key === "ArrowDown" && inSearch && results().length) { event.preventDefault(); moveInResults(1); return; }
    if ((key === "ArrowDown" || key === "ArrowUp") && results().indexOf(active) >= 0) {
      event.preventDefault(); moveInResults(key === "ArrowDown" ? 1 : -1); return;
    }
    if (key === "Escape") {
      var box = document.querySelector("[data-search-results]");
      if (box) box.innerHTML = "";
      if (inSearch) active.value = "";
      focusSearch(false);
      return;
    }
    if (!searchEmpty) return;
    if (key === "+" || key === "Add") { event.preventDefault(); clickIn(selectedLine(), "[data-qty-plus]"); }
    else if (key === "-" || key === "Subtract") { event.preventDefault(); clickIn(selectedLine(), "[data-qty-minus]"); }
    else if (key === "ArrowDown") { event.preventDefault(); moveSelection(1); }
    else if (key === "ArrowUp") { event.preventDefault(); moveSelection(-1); }
    else if (key === "Delete") { event.preventDefault(); clickIn(selectedLine(), "[data-line-remove]"); }
    else if (key === "Enter" && inSearch && selectedLine()) { event.preventDefault(); clickIn(selectedLine(), "[data-line-edit]"); }
  });

  // ------------------------------------------------------------------ keypads and quick fills
  var lastKeypadInput = null;
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-keypad-input]")) lastKeypadInput = el;
    if (el.matches && el.matches("[data-select-on-focus]") && el.select) window.setTimeout(function () { el.select(); }, 0);
  });

  function changed(input) {
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var key = event.target.closest("[data-keypad-key]");
    if (key) {
      var scope = key.closest("form, .modal-content, fieldset") || document;
      var input = lastKeypadInput && scope.contains(lastKeypadInput) ? lastKeypadInput : scope.querySelector("[data-keypad-input]");
      if (!input) return;
      var fieldset = key.closest("fieldset[data-pin-box]");
      if (fieldset) input = fieldset.querySelector("[data-keypad-input]") || input;
      if (key.dataset.keypadKey === "back") input.value = input.value.slice(0, -1);
      else input.value += key.dataset.keypadKey;
      changed(input);
      input.focus();
      return;
    }
    var fill = event.target.closest("[data-fill-target]");
    if (fill) {
      var target = document.querySelector(fill.dataset.fillTarget);
      if (target) { target.value = fill.dataset.fillValue; changed(target); target.focus(); }
      return;
    }
    if (event.target.closest("[data-print]")) window.print();
    // after printing or downloading, Enter is "next sale" again (the New sale button has the focus)
    if (event.target.closest("[data-print], a[download]") && window.AsiriaPOS) {
      window.setTimeout(function () { window.AsiriaPOS.focusAutofocus(document); }, 300);
    }
  });

  // ------------------------------------------------------------------ the pay panel's summary
  // Paid, still to pay and change come from the server (till:pay_summary) as the cashier types: no sums
  // with money here. A "Rest" button asks the server for the rest of what is due; the answer names the
  // amount box to fill and the amount, which is copied in as it is.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-pay-summary][data-fill-field]").forEach(function (summary) {
      var field = document.querySelector(summary.dataset.fillField);
      if (field) { field.value = summary.dataset.fillValue; field.focus(); }
      summary.removeAttribute("data-fill-field");
    });
    markSelected();
  });

  // ------------------------------------------------------------------ camera scanning (BarcodeDetector)
  var stream = null, scanning = false;
  var supported = "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  function showCameraButtons() {
    if (!supported) return;
    document.querySelectorAll("[data-camera-open]").forEach(function (b) { b.classList.remove("d-none"); });
  }

  function stopCamera() {
    scanning = false;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  document.addEventListener("click", function (event) {
    var open = event.target.closest("[data-camera-open]");
    if (!open || !supported) return;
    var form = open.closest("form");
    var dialog = document.querySelector("[data-camera-dialog]");
    var video = dialog && dialog.querySelector("[data-camera-video]");
    var status = dialog && dialog.querySelector("[data-camera-status]");
    if (!form || !video) return;
    modal(dialog).show();
    var detector = new window.BarcodeDetector({ formats: ["ean_13", "ean_8", "upc_a", "upc_e", "code_128", "qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
      stream = s;
      video.srcObject = s;
      return video.play();
    }).then(function () {
      scanning = true;
      if (status) status.textContent = "Looking for a barcode…";
      var tick = function () {
        if (!scanning) return;
        detector.detect(video).then(function (codes) {
          if (codes.length && scanning) {
            var input = form.querySelector("input[name=q]");
            input.value = codes[0].rawValue;
            stopCamera();
            modal(dialog).hide();
            if (form.requestSubmit) form.requestSubmit(); else form.submit();
          } else {
            window.setTimeout(tick, 200);
          }
        }).catch(function () { window.setTimeout(tick, 400); });
      };
      tick();
    }).catch(function (error) {
      if (status) status.textContent = "The camera could not start (" + error.name + "). Type the code instead.";
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    showCameraButtons();
    markSelected();
  });
})();
