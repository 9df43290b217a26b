/* "Load more" on search and category pages: after htmx appends the next page to #results,
 * move keyboard focus to the first new product, so the next Tab continues from there rather
 * than from the top of the page (the button that had focus is replaced). */
(function () {
  "use strict";

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "results") {
      target.setAttribute("data-count-before", String(target.children.length));
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "results") {
      return;
    }
    var first = target.children[Number(target.getAttribute("data-count-before") || 0)];
    var link = first && first.querySelector("a");
    if (link) {
      link.focus({ preventScroll: true });
    }
  });
})();
