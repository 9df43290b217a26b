/* Search as you type: the ARIA 1.2 combobox pattern on the header's search field.
 *
 * htmx fetches the options into #search-suggestions (see base.html); this file only opens and
 * closes the list and moves the active option: ArrowDown/ArrowUp move, Enter opens the active
 * product (or searches, when none is active), Escape closes. Focus stays in the field; the
 * active option is announced through aria-activedescendant. No inline script: a strict
 * Content-Security-Policy allows this file.
 */
(function () {
  "use strict";

  function parts() {
    var input = document.getElementById("search-q");
    var list = document.getElementById("search-suggestions");
    return input && list ? { input: input, list: list } : null;
  }

  function options(list) {
    return Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
  }

  function activate(p, option) {
    options(p.list).forEach(function (each) {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
    });
    if (option) {
      p.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      p.input.removeAttribute("aria-activedescendant");
    }
  }

  function setOpen(p, open) {
    p.list.hidden = !open;
    p.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      activate(p, null);
    }
  }

  function announce(count) {
    var status = document.getElementById("search-suggestions-status");
    if (status) {
      status.textContent = count ? count + (count === 1 ? " suggestion" : " suggestions") +
        ", use the up and down arrows to choose" : "";
    }
  }

  // New options arrived: show them while the shopper is still in the field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var p = parts();
    if (!p || event.detail.target !== p.list) {
      return;
    }
    var count = options(p.list).length;
    setOpen(p, count > 0 && document.activeElement === p.input);
    announce(p.list.hidden ? 0 : count);
  });

  document.addEventListener("keydown", function (event) {
    var p = parts();
    if (!p || event.target !== p.input) {
      return;
    }
    var list = options(p.list);
    var current = list.findIndex(function (option) {
      return option.getAttribute("aria-selected") === "true";
    });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!list.length) {
        return;
      }
      event.preventDefault();
      var next;
      if (p.list.hidden) {
        setOpen(p, true);
        next = event.key === "ArrowDown" ? 0 : list.length - 1;
      } else if (event.key === "ArrowDown") {
        next = (current + 1) % list.length;
      } else {
        next = current <= 0 ? list.length - 1 : current - 1;
      }
      activate(p, list[next]);
    } else if (event.key === "Enter") {
      if (!p.list.hidden && current >= 0) {
        event.preventDefault();
        var chosen = list[current];
        setOpen(p, false);
        chosen.click();  // a link: htmx's boost follows it like any other
      }
    } else if (event.key === "Escape") {
      if (!p.list.hidden) {
        event.preventDefault();  // keep the words; a second Escape clears the field
        setOpen(p, false);
        announce(0);
      }
    }
  });

  // Clicking an option must not blur the field first (that would close the list).
  document.addEventListener("mousedown", function (event) {
    var p = parts();
    if (p && p.list.contains(event.target)) {
      event.preventDefault();
    }
  });

  document.addEventListener("focusout", function (event) {
    var p = parts();
    if (p && event.target === p.input && !p.list.contains(event.relatedTarget)) {
      setOpen(p, false);
    }
  });

  document.addEventListener("focusin", function (event) {
    var p = parts();
    if (p && event.target === p.input && options(p.list).length && p.input.value.trim()) {
      setOpen(p, true);
    }
  });
})();
