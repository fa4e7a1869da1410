/* Zhili grid governance: the phone's outbox, and the service worker's registration.
 *
 * On a flaky mountain network a report or an update must not be lost. When a
 * submission cannot reach the server it is kept in IndexedDB (photos as Blobs)
 * with its Idempotency-Key and sent again when the network returns. The key
 * makes the retry safe: the server answers a known key with the first case,
 * never a second one. Transitions carry the case version the worker saw, so a
 * late one that no longer fits gets 409 and is shown, not silently applied.
 *
 * Plain JS, no build step, no CDN. window.ZhiliOutbox = {add, flush, newKey, list, discard}.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var DB_NAME = "zhili-outbox";
  var STORE = "requests";
  var RETRY_MS = 20000;
  var dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore(STORE, { keyPath: "key" });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(STORE, mode);
        var result = fn(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    // Plain-HTTP pages lack randomUUID; getRandomValues is still there.
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* entry: {key, url, label, fields: [[name, value]] (values may be Blobs/Files)} */
  function add(entry) {
    entry.created = new Date().toISOString();
    entry.state = "pending";
    entry.error = "";
    return withStore("readwrite", function (s) { return s.put(entry); }).then(render);
  }

  function list() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return rows || [];
    });
  }

  function discard(key) {
    return withStore("readwrite", function (s) { return s.delete(key); }).then(render);
  }

  function markFailed(entry, message) {
    entry.state = "failed";
    entry.error = message;
    return withStore("readwrite", function (s) { return s.put(entry); });
  }

  function body(entry) {
    var form = new FormData();
    (entry.fields || []).forEach(function (f) {
      if (f[1] instanceof Blob) { form.append(f[0], f[1], f[2] || "photo.jpg"); }
      else { form.append(f[0], f[1]); }
    });
    return form;
  }

  function send(entry) {
    return fetch(entry.url, {
      method: "POST",
      body: body(entry),
      credentials: "same-origin",
      headers: { "Idempotency-Key": entry.key, "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return withStore("readwrite", function (s) { return s.delete(entry.key); }).then(function () {
            announce(entry, data);
          });
        });
      }
      if (response.status >= 500 || response.status === 429) { return null; } // try again later
      if (response.status === 401 || response.status === 403) {
        var box = document.getElementById("outbox");
        entry.error = (box && box.dataset.loginNeeded) || "log in again to send";
        return withStore("readwrite", function (s) { return s.put(entry); });
      }
      return response.json().catch(function () { return {}; }).then(function (problem) {
        var why = problem.detail || problem.title || ("HTTP " + response.status);
        if (problem.errors && problem.errors.length) {
          why += ": " + problem.errors.map(function (e) { return e.field + " " + e.message; }).join("; ");
        }
        return markFailed(entry, why);
      });
    });
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    return list().then(function (rows) {
      var pending = rows.filter(function (r) { return r.state === "pending"; });
      return pending.reduce(function (chain, entry) {
        return chain.then(function () { return send(entry); }).catch(function () { /* still offline */ });
      }, Promise.resolve());
    }).then(function () { flushing = false; return render(); }, function () { flushing = false; });
  }

  var sentNotes = [];
  function announce(entry, data) {
    var text = (entry.label || "") + (data && data.tracking_no ? " → " + data.tracking_no : "");
    sentNotes.push(text);
    if (entry.reload && location.pathname === entry.reload) { location.reload(); }
  }

  function render() {
    var box = document.getElementById("outbox");
    if (!box) { return Promise.resolve(); }
    return list().then(function (rows) {
      var ul = box.querySelector("ul");
      ul.textContent = "";
      rows.forEach(function (r) {
        var li = document.createElement("li");
        li.dataset.key = r.key;
        li.textContent = (r.label || r.url) + " · " + new Date(r.created).toLocaleString();
        if (r.state === "failed" || r.error) {
          var why = document.createElement("span");
          why.className = "failed";
          why.textContent = " — " + r.error;
          li.appendChild(why);
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "link";
          drop.textContent = box.dataset.discard || "discard";
          drop.addEventListener("click", function () { discard(r.key); });
          li.appendChild(drop);
        }
        ul.appendChild(li);
      });
      sentNotes.splice(0).forEach(function (text) {
        var li = document.createElement("li");
        li.className = "sent";
        li.textContent = (box.dataset.sent || "sent") + ": " + text;
        ul.appendChild(li);
      });
      box.querySelector("[data-count]").textContent = rows.length;
      box.hidden = ul.children.length === 0;
    });
  }

  window.ZhiliOutbox = { add: add, flush: flush, newKey: newKey, list: list, discard: discard, csrfToken: csrfToken };

  window.addEventListener("online", flush);
  setInterval(flush, RETRY_MS);
  document.addEventListener("DOMContentLoaded", function () {
    if (!("indexedDB" in window)) { return; }
    render().then(flush);
  });

  var sw = script && script.dataset.serviceWorker;
  if (sw && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(sw, { scope: script.dataset.swScope || "./" })
      .catch(function () { /* not installable here (plain HTTP); the pages still work */ });
  }
})();
