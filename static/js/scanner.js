/* AsiriaPOS scanner input: every scan reaches the cart exactly once, in order, at any scanner speed and
 * however slow the server.
 *
 * A USB/Bluetooth scanner is a keyboard that types a burst of characters and Enter. This module listens
 * to every key before anything else on the page, tells a scan (a burst ending in Enter) from typing,
 * takes it whole at Enter, gives back to whatever field it landed in (the search box, "Cash handed
 * over", a PIN) what that field held before, and queues it on the tablet. The queue (kept in the tab's
 * sessionStorage, so a page change loses nothing) sends one scan at a time, each with its own scan id:
 * the server adds a scan id once only, so a retry after a dropped connection never adds twice.
 *
 * Where the scan goes: on the till, to the cart (the search list closes; an open pay panel is redrawn
 * with the new amount due); on the receipt page, to the next sale (the till opens and takes the queue).
 * Typing in the scan box and Enter goes through the same queue, whole, as the cashier typed it.
 * No framework, no inline code (Content Security Policy): behaviour hangs on data- attributes.
 */
(function () {
  "use strict";

  var FAST_MS = 50;      // a scan's keys come 0–20 ms apart (a busy tablet sees 50): its median gap is below this
  var LINK_MS = 100;     // keys closer than this belong to one run; people type 120–250 ms apart
  var PAUSE_MS = 400;    // one longer gap inside a run is the tablet catching up, not a person
  var ENTER_MS = 1000;   // Enter this soon after a fast run ends it (it never reaches a form or button)
  var MIN_LENGTH = 4;    // the shortest code we take as a scan (an SKU label); barcodes have 8 to 13
  var KEEP = 80;         // keys remembered since the last Enter
  var RETRY_MS = 1000;   // the server did not answer: send the same scan again after this
  var LEAVE_MS = 250;    // on the receipt page: go to the till once the scanner has been quiet this long
  var STORE = "asiria:scan-queue";
  var COUNT = /^\s*\d{1,5}(?:[.,]\d{1,3})?\s*[*xX×]\s*$/;  // "3*" typed before scanning: three of them

  function sender() { return document.querySelector("[data-scan-sender]"); }
  function nextSale() { return document.querySelector("[data-scan-next]"); }
  function searchBox() { return document.querySelector("[data-till-search]"); }

  // ------------------------------------------------------------------ the queue (this tab's)
  function load() {
    try { return JSON.parse(window.sessionStorage.getItem(STORE)) || []; } catch (e) { return []; }
  }
  var queue = load();
  function save() {
    try { window.sessionStorage.setItem(STORE, JSON.stringify(queue)); } catch (e) { /* private mode: memory only */ }
    var el = sender();
    if (el) el.dataset.scanQueue = String(queue.length);
  }

  function newId() {
    // getRandomValues works on plain http too (a shop's LAN), unlike crypto.randomUUID
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function enqueue(code) {
    queue.push({ id: newId(), code: code });
    save();
    pump();
  }

  var sending = false, retryTimer = null, leaveTimer = null, stopped = false, lastStatus = 0;

  function weightDialogOpen() { return !!document.querySelector("#till-dialog-content [data-weight-form]"); }
  function payPanelOpen() { return !!document.querySelector("#till-dialog.show [data-pay-panel]"); }

  function pump() {
    if (sending || retryTimer || stopped || !queue.length) return;
    var el = sender();
    if (!el) { leaveForTill(); return; }
    // a product sold by weight is asking for its weight: the next scans wait for the answer
    if (weightDialogOpen()) return;
    var item = queue[0];
    sending = true;
    lastStatus = 0;
    window.htmx.ajax("POST", el.dataset.scanUrl, {
      source: el, target: "#cart", swap: "outerHTML", values: { q: item.code, scan_id: item.id }
    }).then(function () { sent(item, lastStatus); }, function () { sent(item, 0); });
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt === sender()) lastStatus = event.detail.xhr ? event.detail.xhr.status : 0;
  });

  function sent(item, status) {
    sending = false;
    if (status === 0 || status >= 500 || status === 429) {
      // never reached the server, or it could not finish: the same scan again (same id), order kept
      retryTimer = window.setTimeout(function () { retryTimer = null; pump(); }, RETRY_MS);
      return;
    }
    if (status === 401 || status === 403) {
      stopped = true;  // logged out: the queue waits in this tab for the till to open again
      return;
    }
    if (queue.length && queue[0].id === item.id) queue.shift();
    save();
    (payPanelOpen() ? redrawPayPanel() : Promise.resolve()).then(pump, pump);
  }

  // The pay panel shows what is due: after a scan it is drawn again with the new total, keeping what
  // the cashier had typed (cash handed over, card reference).
  function redrawPayPanel() {
    var content = document.getElementById("till-dialog-content");
    var el = sender();
    if (!content || !el || !el.dataset.payUrl) return Promise.resolve();
    var typed = {};
    content.querySelectorAll("[data-pay-form] input[name]:not([type=hidden])").forEach(function (input) {
      if (input.value) typed[input.name] = input.value;
    });
    return window.htmx.ajax("GET", el.dataset.payUrl, { source: el, target: "#till-dialog-content", swap: "innerHTML" })
      .then(function () {
        var form = content.querySelector("[data-pay-form]");
        if (!form) return;
        Object.keys(typed).forEach(function (name) {
          var input = form.querySelector('input[name="' + name + '"]');
          if (input && !input.value) input.value = typed[name];
        });
        // The figures drawn with the panel know nothing of what was typed back in: ask the server for
        // them again, with the panel's amounts (the summary's own hx-include).
        var summary = content.querySelector("[data-pay-summary]");
        if (summary && Object.keys(typed).length) {
          return window.htmx.ajax("GET", summary.getAttribute("hx-get"), { source: summary, target: summary, swap: "outerHTML" });
        }
      });
  }

  // The receipt (paid) screen: the scan is the next customer's first item. Keep the tab's queue and
  // open the till once the scanner is quiet; the till sends the queue.
  function leaveForTill() {
    var link = nextSale();
    if (!link) return;
    window.clearTimeout(leaveTimer);
    leaveTimer = window.setTimeout(function () { window.location.assign(link.href); }, LEAVE_MS);
  }

  document.addEventListener("hidden.bs.modal", function () { pump(); });

  // ------------------------------------------------------------------ telling a scan from typing
  // Each printable key is kept with its time and the field it went into (and what that field held
  // before it). At Enter, the scan is the run of keys before it that came scanner-fast; a single
  // pause inside such a run (the tablet was busy drawing the cart) does not split it, while a
  // person's keys before it (slow, one after the other) are not part of it.
  var keys = [];

  function field(el) {
    return el && el.matches && el.matches("input:not([type=checkbox]):not([type=radio]), textarea") ? el : null;
  }

  function scanBefore(enterAt) {
    var n = keys.length;
    if (n < MIN_LENGTH || enterAt - keys[n - 1].at > ENTER_MS) return null;
    var start = n - 1;
    while (start > 0) {
      var gap = keys[start].at - keys[start - 1].at;
      var before = start > 1 ? keys[start - 1].at - keys[start - 2].at : 0;  // 0: the first key since Enter
      if (gap <= LINK_MS || (gap <= PAUSE_MS && before <= LINK_MS)) start -= 1;
      else break;
    }
    var run = keys.slice(start);
    if (run.length < MIN_LENGTH) return null;
    var gaps = [];
    for (var i = 1; i < run.length; i++) gaps.push(run[i].at - run[i - 1].at);
    gaps.sort(function (a, b) { return a - b; });
    return gaps[Math.floor(gaps.length / 2)] <= FAST_MS ? run : null;  // the median: a pause does not count
  }

  document.addEventListener("keydown", function (event) {
    if (!sender() && !nextSale()) return;  // nowhere to take a scan on this page
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { keys = []; return; }
    if (event.key.length === 1) {
      var el = field(document.activeElement);
      keys.push({ key: event.key, at: event.timeStamp, el: el, before: el ? el.value : null });
      if (keys.length > KEEP) keys.shift();
      return;
    }
    if (event.key === "Shift") return;  // scanners hold Shift for capitals
    var run = event.key === "Enter" ? scanBefore(event.timeStamp) : null;
    keys = [];
    if (!run) return;

    // A scan: it never submits the form or presses the button it landed on, and never stays typed in.
    event.preventDefault();
    event.stopImmediatePropagation();
    var code = run.map(function (k) { return k.key; }).join("");
    // Every field the scan's keys landed in (focus may move mid-scan: a dialog focusing its first
    // field) gets back what it held before the first of them.
    var restored = [];
    run.forEach(function (k) {
      if (!k.el || restored.indexOf(k.el) >= 0) return;
      restored.push(k.el);
      if (!k.el.isConnected) return;
      if (k.el.matches("[data-till-search]")) {
        if (COUNT.test(k.before)) code = k.before.trim() + code;  // "3*" typed, then the scan
        closeSearch();
      } else {
        k.el.value = k.before;
        k.el.dispatchEvent(new Event("input", { bubbles: true }));  // the pay summary, if it is one
      }
    });
    enqueue(code);
  }, true);

  function closeSearch() {
    var box = searchBox();
    if (box) box.value = "";
    var results = document.querySelector("[data-search-results]");
    if (results) results.innerHTML = "";
  }

  // Typing in the scan box and Enter (or the Add button, or the camera): the whole text, through the queue.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-scan-form]") || !sender()) return;
    event.preventDefault();
    var box = form.querySelector("[data-till-search]");
    var text = box ? box.value.trim() : "";
    if (!text) return;
    closeSearch();
    enqueue(text);
  }, true);

  document.addEventListener("DOMContentLoaded", function () { save(); pump(); });
})();
