// PolicyGap: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Move focus to the error summary when a page is shown with errors.
  var summary = document.querySelector("[data-module='error-summary']");
  if (summary) {
    summary.focus();
  }

  // Show or hide conditional questions at once: ask the server which questions are visible
  // for the answers on the page (the server's rules decide; nothing is duplicated here).
  var form = document.querySelector("form[data-visibility-url]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-visibility-url");
  var pending = null;
  function refresh() {
    var body = new URLSearchParams(new FormData(form));
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.visible) { return; }
        var visible = {};
        data.visible.forEach(function (id) { visible[id] = true; });
        form.querySelectorAll("[data-question-id]").forEach(function (node) {
          var show = !!visible[node.getAttribute("data-question-id")];
          if (show) { node.removeAttribute("hidden"); } else { node.setAttribute("hidden", ""); }
        });
      })
      .catch(function () { /* the server re-checks on save */ });
  }
  form.addEventListener("change", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(refresh, 50);
  });
})();
