/* Forms that must survive a flaky network (report, accept, check in, resolve, escalate, rate).
 *
 * A form marked data-outbox is sent with fetch. If the network fails (or the
 * phone is offline) the submission goes to the outbox (offline.js) with its
 * Idempotency-Key and is sent again later to data-outbox (a URL; empty means
 * the form's own action). When the server answers, the browser follows the
 * redirect; any other answer (a form with errors: nothing written) is posted again
 * the plain way, so the browser shows that page.
 * A form marked data-locate fills lon/lat from the browser's location first.
 * Without JavaScript every form still works as a plain POST.
 */
(function () {
  "use strict";

  function fields(form) {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      // The CSRF token and the idempotency key travel as headers.
      if (name === "csrfmiddlewaretoken" || name === "idempotency_key") { return; }
      if (value instanceof File) {
        if (!value.size) { return; }
        out.push([name, value, value.name]);
      } else {
        out.push([name, value]);
      }
    });
    return out;
  }

  function locate(form) {
    var lon = form.querySelector("input[name=lon]");
    var lat = form.querySelector("input[name=lat]");
    if (!form.hasAttribute("data-locate") || !lon || !lat || lon.value || !navigator.geolocation) {
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(7);
        lon.value = p.coords.longitude.toFixed(7);
        var crs = form.querySelector("input[name=crs]");
        if (crs) { crs.value = "wgs84"; }
        resolve();
      }, function () { resolve(); }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  function showQueued(form) {
    var note = document.getElementById(form.dataset.queuedNote || "queued");
    if (note) { note.hidden = false; }
  }

  /* Copy the error lists of the same form in the server's answer beside our own inputs. */
  function showErrors(form, html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var action = form.getAttribute("action");
    var answer = Array.prototype.filter.call(page.querySelectorAll("form"), function (f) {
      return f.getAttribute("action") === action;
    })[0];
    form.querySelectorAll(".field-errors").forEach(function (e) { e.remove(); });
    if (!answer) { form.submit(); return; }
    var first = null;
    answer.querySelectorAll(".field-errors").forEach(function (list) {
      var name = list.getAttribute("data-error-for");
      var input = name && name !== "__all__" ? form.querySelector("[name='" + name.replace(/'/g, "") + "']") : null;
      var copy = document.importNode(list, true);
      if (input) {
        var anchor = input.closest("fieldset.choices") || input;
        anchor.insertAdjacentElement("afterend", copy);
        input.setAttribute("aria-invalid", "true");
      } else {
        var hidden = form.querySelectorAll("input[type=hidden]");
        var after = hidden.length ? hidden[hidden.length - 1] : null;
        if (after) { after.insertAdjacentElement("afterend", copy); } else { form.prepend(copy); }
      }
      first = first || copy;
    });
    var details = form.closest("details");
    if (details) { details.open = true; }
    if (first) { first.scrollIntoView({ block: "center" }); }
  }

  function setup(form) {
    var keyInput = form.querySelector("input[name=idempotency_key]");
    // A page served from the offline cache must not reuse the key it was cached with.
    if (keyInput && window.ZhiliOutbox) { keyInput.value = ZhiliOutbox.newKey(); }

    form.addEventListener("submit", function (event) {
      if (!window.ZhiliOutbox || !window.fetch || !window.indexedDB) { return; }
      event.preventDefault();
      var buttons = form.querySelectorAll("button[type=submit]");
      buttons.forEach(function (b) { b.disabled = true; });
      var key = keyInput ? keyInput.value : ZhiliOutbox.newKey();

      function done() { buttons.forEach(function (b) { b.disabled = false; }); }

      function queue() {
        return ZhiliOutbox.add({
          key: key,
          url: form.dataset.outbox || form.action,
          label: form.dataset.label || document.title,
          reload: form.dataset.reload || "",
          fields: fields(form)
        }).then(function () {
          showQueued(form);
          if (form.hasAttribute("data-reset")) { form.reset(); }
          if (keyInput) { keyInput.value = ZhiliOutbox.newKey(); }
          done();
        });
      }

      locate(form).then(function () {
        var data = new FormData(form);
        if (!navigator.onLine) { return queue(); }
        return fetch(form.action, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "Idempotency-Key": key, "X-Zhili-Form": "fetch" }
        }).then(function (response) {
          if (response.status >= 500) { return queue(); }
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") === 0) {
            // Done: the server names the page to open, whose message confirms it.
            return response.json().then(function (answer) {
              window.location.href = answer.redirect || answer.url || window.location.href;
            });
          }
          if (response.redirected) { window.location.href = response.url; return; }
          if (response.status === 422 && type.indexOf("text/html") === 0) {
            // Refused, nothing written: show the errors beside the fields of this very form,
            // so what was typed and the photos chosen stay as they are.
            return response.text().then(function (html) { showErrors(form, html); done(); });
          }
          form.submit();
        }, function () { return queue(); });
      }).catch(function () { done(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-outbox]").forEach(setup);
  });
})();
