/* Personal holes in cached pages (docs/edge.md). Every page comes from the edge with the same
 * neutral header ("Sign in", an empty cart). When this browser has a session, one private
 * request to /fragments/me brings the account menu and the cart badge, which replace the
 * neutral ones by out-of-band swaps, and on a product page the shopper's recently viewed
 * products. Without a session no request is made at all.
 *
 * The session cookie is HttpOnly; `edgecart_has_session=1` is its readable marker, set and
 * cleared with it. It carries no secret: a forged marker only costs its owner one request. */
(function () {
  "use strict";

  function hasSession() {
    return document.cookie.split(";").some(function (part) {
      return part.trim() === "edgecart_has_session=1";
    });
  }

  // htmx calls this for the page at start and for the content of every swap (hx-boost swaps
  // the whole body, header included). Only content that holds the header's holes asks: the
  // holes themselves, swapped in by /fragments/me or an add-to-cart answer, do not.
  htmx.onLoad(function (content) {
    if (!content.querySelector || !content.querySelector("#cart-badge, #account-menu")) {
      return;
    }
    if (!hasSession()) {
      return;
    }
    // swap "none": the answer is made only of out-of-band parts. A failed request (origin
    // down) leaves the neutral header in place and the page working.
    // A product page names its product, so the visit is remembered for "Recently viewed".
    var url = document.body.getAttribute("data-me-url");
    var viewing = document.querySelector("#recently-viewed[data-product-id]");
    if (viewing) {
      url += "?viewing=" + encodeURIComponent(viewing.getAttribute("data-product-id"));
    }
    htmx.ajax("GET", url, { source: content, swap: "none" });
  });
})();
