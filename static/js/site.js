/* Small enhancements shared by every page; each works on data- attributes and the page works without it.
 * - form[data-confirm]: ask before a destructive action.
 * - [data-copy-target]: copy a field's value (the API key shown once).
 * - textarea[data-markdown-preview]: live preview of markdown, rendered and sanitized by the server.
 * - [data-poll-url]: follow a version's state and reload the page when it changes.
 * - [data-autofocus]: move focus to a region that appeared after a form post (screen readers hear it). */
(function () {
  "use strict";

  function csrfToken(root) {
    var input = (root || document).querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  function setupCopy(button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy-target"));
      var status = document.querySelector("[data-copy-status]");
      if (!field) { return; }
      var done = function (ok) {
        if (status) { status.textContent = ok ? "Copied to the clipboard." : "Select the key and copy it (Ctrl+C)."; }
        button.textContent = ok ? "Copied" : "Copy";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
      } else {
        field.focus();
        field.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
    });
  }

  function setupPreview(textarea) {
    var target = document.getElementById(textarea.getAttribute("data-markdown-preview"));
    if (!target) { return; }
    var url = target.getAttribute("data-preview-url");
    var timer = null;
    var sent = 0;
    var render = function () {
      var body = new FormData();
      body.append("csrfmiddlewaretoken", csrfToken(textarea.form));
      body.append("text", textarea.value);
      var mine = ++sent;
      fetch(url, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          if (mine === sent) { target.innerHTML = html; } /* sanitized by the store's own sanitizer */
        })
        .catch(function () { /* keep the last preview; the Preview button still works */ });
    };
    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(render, 400);
    });
    if (textarea.value.trim() && target.querySelector(".muted")) { render(); }
  }

  function setupPoll(box) {
    var url = box.getAttribute("data-poll-url");
    var current = box.getAttribute("data-poll-status");
    var text = box.querySelector("[data-poll-text]");
    var delay = 1000;
    var deadline = Date.now() + 30 * 60 * 1000;
    var tick = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.status !== current) { window.location.reload(); return; }
          if (text) { text.textContent = "Still " + data.label.toLowerCase() + " (checked at " + new Date().toLocaleTimeString() + ")."; }
          delay = Math.min(delay * 1.5, 10000);
          if (Date.now() < deadline) { window.setTimeout(tick, delay); }
        })
        .catch(function () { if (Date.now() < deadline) { window.setTimeout(tick, 10000); } });
    };
    window.setTimeout(tick, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy-target]").forEach(setupCopy);
    document.querySelectorAll("textarea[data-markdown-preview]").forEach(setupPreview);
    document.querySelectorAll("[data-poll-url]").forEach(setupPoll);
    var focus = document.querySelector("[data-autofocus]");
    if (focus) { focus.focus(); }
  });
})();
