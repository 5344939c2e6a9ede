/* The main menu on narrow screens: folded behind one button. Without this script the menu
   simply wraps over several lines (habeas.css), so every page still works. */
(function () {
  "use strict";
  var nav = document.querySelector(".site-nav");
  var toggle = document.querySelector(".site-nav__toggle");
  if (!nav || !toggle) {
    return;
  }
  document.documentElement.classList.add("js-nav");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = nav.classList.toggle("site-nav--open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
