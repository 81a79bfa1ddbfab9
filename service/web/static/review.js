// PolicyGap review page: filter the criteria in place. Without this file the filter buttons post
// the form (keeping what was typed as a draft) and the server shows the page filtered.
// Criteria the filter leaves out are only hidden: their comment boxes stay in the form and are
// posted with the decision, so nothing typed is ever dropped.
(function () {
  "use strict";
  var layout = document.querySelector(".review-layout");
  if (!layout || !window.history || !document.querySelectorAll) {
    return;
  }
  var controls = layout.querySelectorAll("[data-show]");
  var criteria = document.querySelectorAll("[data-crit]");
  var sections = document.querySelectorAll("[data-section]");
  var status = document.getElementById("filter-status");
  var shownLine = document.getElementById("shown-line");
  var shownField = document.querySelector("input[name='shown']");
  var lang = document.documentElement.getAttribute("lang") || "en";
  // the sentence in the page's language, both plural forms given by the server
  var words = {
    one: shownLine ? shownLine.getAttribute("data-one") : "",
    many: shownLine ? shownLine.getAttribute("data-many") : ""
  };
  function single(n) { return lang === "fr" ? n === 0 || n === 1 : n === 1; }

  function commented(node) {
    if (node.getAttribute("data-commented") === "1") { return true; }
    var box = node.querySelector("textarea");
    return !!(box && box.value.trim());
  }

  function matches(node, show) {
    if (show === "all") { return true; }
    if (show === "commented") { return commented(node); }
    return node.getAttribute("data-" + show) === "1";
  }

  function apply(show) {
    var count = 0;
    var commentedCount = 0;
    criteria.forEach(function (node) {
      var on = matches(node, show);
      if (commented(node)) { commentedCount += 1; }
      if (on) { node.removeAttribute("hidden"); count += 1; } else { node.setAttribute("hidden", ""); }
    });
    sections.forEach(function (section) {
      var any = section.querySelector("[data-crit]:not([hidden])");
      if (any) { section.removeAttribute("hidden"); } else { section.setAttribute("hidden", ""); }
      var link = layout.querySelector("[data-section-link='" + section.getAttribute("data-section") + "']");
      if (link) { link.classList.toggle("review-index__dim", !any); }
    });
    controls.forEach(function (control) {
      var on = control.getAttribute("data-show") === show;
      if (control.tagName === "BUTTON") {
        control.setAttribute("aria-pressed", on ? "true" : "false");
      } else if (on) {
        control.setAttribute("aria-current", "true");
      } else {
        control.removeAttribute("aria-current");
      }
    });
    var counter = layout.querySelector("[data-count='commented']");
    if (counter) { counter.textContent = String(commentedCount); }
    var text = (single(count) ? words.one : words.many)
      .replace("{count}", String(count)).replace("{total}", String(criteria.length));
    if (shownLine && shownLine.firstChild) { shownLine.firstChild.textContent = text + " "; }
    if (status) { status.textContent = text; }
    document.querySelectorAll("[data-show-link]").forEach(function (link) {
      if (show === "all") { link.setAttribute("hidden", ""); } else { link.removeAttribute("hidden"); }
    });
    if (shownField) { shownField.value = show; }
    var url = new URL(window.location.href);
    url.searchParams.set("show", show);
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  controls.forEach(function (control) {
    control.addEventListener("click", function (event) {
      event.preventDefault();
      apply(control.getAttribute("data-show"));
    });
  });
  document.querySelectorAll("[data-show-link]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      apply(link.getAttribute("data-show-link"));
      var heading = document.getElementById("criteria");
      if (heading) { heading.focus(); }
    });
  });
})();
