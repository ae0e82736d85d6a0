/* Upload a package from the browser straight to package storage, with progress and cancel.
 *
 * form[data-upload="create"] (new version page): the form is posted to the portal for JSON, which creates
 * the version (the API's version service) and answers the URL, method and headers to PUT the file to;
 * form[data-upload="resume"] (a version still "uploading"): a fresh URL is asked from data-target-url.
 * Then the file is PUT with XMLHttpRequest (upload progress events; abort() cancels) and the portal is told
 * the upload is complete (signature and signing key included), which starts validation. Errors from any
 * step are shown next to the field they concern or at the top of the form. */
(function () {
  "use strict";

  function formatBytes(n) {
    if (n < 1024) { return n + " B"; }
    var units = ["KB", "MB", "GB"];
    var value = n / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return value.toFixed(1) + " " + units[unit];
  }

  function Uploader(form) {
    this.form = form;
    this.mode = form.getAttribute("data-upload");
    this.fileInput = form.querySelector("[data-package-input]");
    this.submit = form.querySelector("[data-upload-submit]");
    this.progressBox = form.querySelector("[data-upload-progress]");
    this.bar = this.progressBox.querySelector("progress");
    this.status = this.progressBox.querySelector("[data-upload-status]");
    this.cancelButton = this.progressBox.querySelector("[data-upload-cancel]");
    this.errorBox = form.querySelector(".form-errors");
    this.xhr = null;
    this.busy = false;
    var self = this;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!self.busy) { self.start(); }
    });
    this.cancelButton.addEventListener("click", function () { self.cancel(); });
    window.addEventListener("beforeunload", function (event) {
      if (self.xhr) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  Uploader.prototype.csrf = function () {
    return this.form.querySelector("input[name=csrfmiddlewaretoken]").value;
  };

  Uploader.prototype.clearErrors = function () {
    if (this.errorBox) { this.errorBox.classList.remove("is-notice"); }
    this.form.querySelectorAll("ul.errors").forEach(function (ul) { ul.textContent = ""; });
    this.form.querySelectorAll(".field.has-error").forEach(function (f) { f.classList.remove("has-error"); });
    this.form.querySelectorAll("[aria-invalid]").forEach(function (f) { f.removeAttribute("aria-invalid"); });
    if (this.errorBox) {
      this.errorBox.hidden = true;
      this.errorBox.querySelector("ul").textContent = "";
    }
  };

  /* errors: {field: [messages]}; "__all__" (or a field this form does not show) goes to the top. */
  Uploader.prototype.showErrors = function (errors, extraNode) {
    var form = this.form;
    var top = [];
    Object.keys(errors || {}).forEach(function (name) {
      var list = form.querySelector("#id_" + name + "_errors") || (name === "package" ? form.querySelector("#package-file_errors") : null);
      (errors[name] || []).forEach(function (message) {
        if (list && name !== "__all__") {
          var li = document.createElement("li");
          li.textContent = message;
          list.appendChild(li);
          var field = list.closest(".field");
          if (field) { field.classList.add("has-error"); }
          var input = field && field.querySelector("input, textarea, select");
          if (input) { input.setAttribute("aria-invalid", "true"); }
        } else {
          top.push(name === "__all__" || name === "non_field_errors" ? message : name + ": " + message);
        }
      });
    });
    if (this.errorBox && (top.length || extraNode)) {
      var ul = this.errorBox.querySelector("ul");
      top.forEach(function (message) {
        var li = document.createElement("li");
        li.textContent = message;
        ul.appendChild(li);
      });
      if (extraNode) {
        var li = document.createElement("li");
        li.appendChild(extraNode);
        ul.appendChild(li);
      }
      this.errorBox.hidden = false;
      this.errorBox.setAttribute("tabindex", "-1");
      this.errorBox.focus();
    } else {
      /* Only field errors: go to the first field that has one (its error is read with it). */
      var invalid = form.querySelector("[aria-invalid=true]");
      if (invalid) { invalid.focus(); }
    }
  };

  Uploader.prototype.setBusy = function (busy) {
    this.busy = busy;
    this.submit.disabled = busy;
    this.fileInput.disabled = busy;
  };

  Uploader.prototype.post = function (url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(
        function (data) { return { ok: response.ok, status: response.status, data: data }; },
        function () { return { ok: false, status: response.status, data: { errors: { __all__: ["The store answered " + response.status + "."] } } }; }
      );
    });
  };

  Uploader.prototype.start = function () {
    var self = this;
    this.clearErrors();
    var file = this.fileInput.files && this.fileInput.files[0];
    if (!file) {
      this.showErrors({ package: ["Choose the package file (.mpk) to upload."] });
      return;
    }
    var declared = this.form.getAttribute("data-declared-size");
    if (declared && Number(declared) !== file.size) {
      this.showErrors({ package: ["This version expects a file of " + declared + " bytes; the one chosen has " + file.size + "."] });
      return;
    }
    this.setBusy(true);
    var step;
    if (this.mode === "create") {
      this.form.querySelector("input[name=size]").value = String(file.size);
      step = this.post(window.location.pathname, new FormData(this.form));
    } else {
      var body = new FormData();
      body.append("csrfmiddlewaretoken", this.csrf());
      step = this.post(this.form.getAttribute("data-target-url"), body);
    }
    step.then(function (answer) {
      if (!answer.ok) {
        self.setBusy(false);
        self.showErrors(answer.data.errors || { __all__: [answer.data.error ? answer.data.error.message : "The version could not be created."] });
        return;
      }
      self.versionUrl = answer.data.version_url;
      self.completeUrl = answer.data.complete_url;
      if (self.mode === "create") {
        /* The version exists now: a second try uploads to it again instead of creating another one. */
        self.mode = "resume";
        self.form.setAttribute("data-target-url", answer.data.target_url);
        self.form.setAttribute("data-declared-size", String(file.size));
        self.form.querySelectorAll("#id_version_name, #id_version_code, #id_release_notes").forEach(function (field) {
          field.readOnly = true;
        });
        self.submit.textContent = "Upload again";
      }
      self.put(answer.data.upload, file);
    }).catch(function () {
      self.setBusy(false);
      self.showErrors({ __all__: ["The store could not be reached. Check your connection and try again."] });
    });
  };

  Uploader.prototype.versionLink = function (text) {
    var link = document.createElement("a");
    link.href = this.versionUrl;
    link.textContent = text;
    return link;
  };

  Uploader.prototype.put = function (upload, file) {
    var self = this;
    var xhr = new XMLHttpRequest();
    this.xhr = xhr;
    this.progressBox.hidden = false;
    this.bar.value = 0;
    this.bar.textContent = "0%";
    this.status.textContent = "Uploading " + file.name + " (" + formatBytes(file.size) + ")…";
    this.cancelButton.hidden = false;
    this.cancelButton.focus();
    xhr.open(upload.method || "PUT", upload.url);
    Object.keys(upload.headers || {}).forEach(function (name) { xhr.setRequestHeader(name, upload.headers[name]); });
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      var percent = Math.floor((event.loaded / event.total) * 100);
      self.bar.value = percent;
      self.bar.textContent = percent + "%";
      self.status.textContent = formatBytes(event.loaded) + " of " + formatBytes(event.total) + " (" + percent + "%)";
    });
    xhr.addEventListener("load", function () {
      self.xhr = null;
      if (xhr.status >= 200 && xhr.status < 300) {
        self.bar.value = 100;
        self.status.textContent = "Uploaded. Starting validation…";
        self.cancelButton.hidden = true;
        self.complete();
        return;
      }
      var message = "The storage refused the upload (HTTP " + xhr.status + ").";
      try {
        var body = JSON.parse(xhr.responseText);
        if (body && body.error && body.error.message) { message = body.error.message; }
      } catch (e) { /* S3 answers XML: keep the generic message */ }
      self.failed(message);
    });
    xhr.addEventListener("error", function () {
      self.xhr = null;
      self.failed("The upload was interrupted (network error).");
    });
    xhr.addEventListener("abort", function () {
      self.xhr = null;
      self.progressBox.hidden = true;
      self.setBusy(false);
      if (self.errorBox) { self.errorBox.classList.add("is-notice"); }
      self.showErrors(
        { __all__: ["Upload cancelled. The version is kept and waits for its package."] },
        self.versionLink("Upload it later from the version's page, or delete the version there.")
      );
    });
    xhr.send(file);
  };

  Uploader.prototype.failed = function (message) {
    this.progressBox.hidden = true;
    this.setBusy(false);
    this.showErrors({ package: [message] }, this.mode === "create" ? this.versionLink("Try again from the version's page.") : null);
  };

  Uploader.prototype.cancel = function () {
    if (this.xhr) { this.xhr.abort(); }
  };

  Uploader.prototype.complete = function () {
    var self = this;
    var body = new FormData();
    body.append("csrfmiddlewaretoken", this.csrf());
    ["signing_key_id", "signature"].forEach(function (name) {
      var field = self.form.querySelector("[name=" + name + "]");
      if (field) { body.append(name, field.value); }
    });
    this.post(this.completeUrl, body).then(function (answer) {
      if (answer.ok) {
        window.location.assign(answer.data.redirect);
        return;
      }
      self.progressBox.hidden = true;
      self.setBusy(false);
      self.showErrors(answer.data.errors || {}, self.versionLink("Open the version's page."));
    }).catch(function () {
      self.setBusy(false);
      self.showErrors({ __all__: ["The store could not be reached to start validation."] }, self.versionLink("Open the version's page to retry."));
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(function (form) { return new Uploader(form); });
  });
})();
