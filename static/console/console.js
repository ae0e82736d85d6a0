// The review console's small behaviours (no build step): canned responses fill the notes, a file's diff is
// fetched the first time it is opened, and buttons with data-confirm ask first.
(function () {
  "use strict";

  function fillFromCanned(select) {
    var option = select.options[select.selectedIndex];
    var target = document.getElementById(select.dataset.fills);
    if (!option || !option.dataset.body || !target) return;
    var body = option.dataset.body;
    target.value = target.value.trim() ? target.value.replace(/\s+$/, "") + "\n\n" + body : body;
    target.focus();
    select.selectedIndex = 0;
  }

  function loadDiff(details) {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    var body = details.querySelector(".diff-body");
    fetch(details.dataset.diffUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        body.innerHTML = html; // rendered and escaped by the server's template
      })
      .catch(function (error) {
        delete details.dataset.loaded;
        body.textContent = "The diff could not be loaded (" + error.message + "). Close and open it to retry.";
      });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-fills]")) fillFromCanned(event.target);
  });
  document.addEventListener(
    "toggle",
    function (event) {
      if (event.target.matches && event.target.matches("details[data-diff-url]")) loadDiff(event.target);
    },
    true
  );
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
})();
