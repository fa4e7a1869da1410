/* A form marked data-confirm="question" asks before it is sent (a step that cannot be undone).
 * A static file, not an inline handler, so the Content-Security-Policy can forbid inline script. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") &&
        !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  }, true);
})();
