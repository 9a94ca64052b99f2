/* AsiriaPOS page behaviour. Loaded on every page; no inline scripts anywhere (Content Security Policy).
 * Behaviour is attached through data- attributes so htmx-swapped fragments get it too. */
(function () {
  "use strict";

  // Ask before a destructive form is sent: <form data-confirm="Deactivate Jane?">
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Elements with data-autofocus keep the keyboard (the till's scan box) after every swap.
  function focusAutofocus(root) {
    var el = (root || document).querySelector("[data-autofocus]");
    if (el && document.activeElement !== el && !document.querySelector(".modal.show")) {
      el.focus({ preventScroll: true });
    }
  }

  // Messages fade away by themselves after a while, except errors.
  function autoDismiss(root) {
    (root || document).querySelectorAll("#messages .alert:not(.alert-danger)").forEach(function (el) {
      if (el.dataset.timer) return;
      el.dataset.timer = "1";
      window.setTimeout(function () {
        if (window.bootstrap && el.isConnected) window.bootstrap.Alert.getOrCreateInstance(el).close();
      }, 5000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusAutofocus(document);
    autoDismiss(document);
  });
  // A dialog opening clears the news ("Logged in as …", "Price changed"), which sits above dialogs and
  // would cover the dialog's own text; errors stay until read.
  document.addEventListener("show.bs.modal", function () {
    document.querySelectorAll("#messages .alert:not(.alert-danger)").forEach(function (el) {
      if (window.bootstrap && el.isConnected) window.bootstrap.Alert.getOrCreateInstance(el).close();
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    focusAutofocus(document);
    autoDismiss(document);
  });

  // A fragment request that fails: show the server's message instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 500) {
      showMessage("Something went wrong on our side (" + xhr.status + "). Nothing was half-saved; try again.", "danger");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    showMessage("No connection to the server. Check the network and try again.", "danger");
  });

  function showMessage(text, level) {
    var box = document.getElementById("messages");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "alert alert-" + (level || "info") + " alert-dismissible fade show shadow-sm";
    div.setAttribute("role", "alert");
    div.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "Close");
    div.appendChild(close);
    box.appendChild(div);
  }
  // Passkeys (allauth.mfa's webauthn.js): say what went wrong instead of failing silently.
  document.addEventListener("allauth.error", function (event) {
    var exception = event.detail && event.detail.exception;
    var name = exception && exception.name;
    var text;
    if (name === "NotAllowedError" || name === "AbortError") {
      text = "The passkey request was cancelled or timed out. Try again.";
    } else if (name === "InvalidStateError") {
      text = "This device already holds a passkey for your account.";
    } else if (name === "SecurityError") {
      text = "Passkeys only work on the shop's secure (https) address.";
    } else {
      text = "The passkey did not work on this device" + (exception && exception.message ? ": " + exception.message : ".");
    }
    event.preventDefault();
    showMessage(text, "danger");
  });

  // Buttons that need WebAuthn are switched off where the browser cannot do it (old browser, plain http).
  function checkWebAuthn(root) {
    if (window.PublicKeyCredential) return;
    (root || document).querySelectorAll("[data-needs-webauthn]").forEach(function (button) {
      button.disabled = true;
      var hint = document.getElementById(button.dataset.needsWebauthn);
      if (hint) hint.textContent = "This browser cannot use passkeys here (passkeys need https or localhost).";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { checkWebAuthn(document); });

  window.AsiriaPOS = { showMessage: showMessage, focusAutofocus: focusAutofocus };
})();
