{% autoescape off %}/* Zhili grid governance service worker (scope {{ scope }}), shell version {{ version }}.
 *
 * Static files: cache first (they change only with a new version, which gets a new cache).
 * Pages under the scope: network first; the last copy is kept for when there is no
 * network, and a page never seen offline gets the offline page. Partials (htmx
 * polling) and every POST go to the network only: a POST that fails is kept by the
 * page's outbox, not here. Logging out drops the kept pages.
 */
"use strict";
const VERSION = "{{ version }}";
const SHELL_CACHE = "zhili-gov-shell-" + VERSION;
const PAGE_CACHE = "zhili-gov-pages";
const SHELL = {{ shell }};
const OFFLINE_URL = {{ offline_url }};
const SCOPE = {{ scope }};
const LOGOUT_URL = {{ logout_url }};
const STATIC_PREFIX = {{ static_prefix }};
const MAX_PAGES = 40;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("zhili-gov-shell-") && k !== SHELL_CACHE)
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

async function trimPages(cache) {
  const keys = await cache.keys();
  for (const request of keys.slice(0, Math.max(0, keys.length - MAX_PAGES))) {
    await cache.delete(request);
  }
}

async function networkFirst(request) {
  const cache = await caches.open(PAGE_CACHE);
  try {
    const response = await fetch(request);
    // Keep only real pages: not a redirect to the login page, not an error.
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(request, response.clone());
      trimPages(cache);
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreVary: true });
    if (kept) { return kept; }
    const offline = await caches.match(OFFLINE_URL);
    return offline || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  }
}

async function cacheFirst(request) {
  const kept = await caches.match(request);
  if (kept) { return kept; }
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    const cache = await caches.open(SHELL_CACHE);
    cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && url.pathname === LOGOUT_URL) {
    event.waitUntil(caches.delete(PAGE_CACHE));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (request.mode === "navigate" && url.pathname.startsWith(SCOPE) && !request.headers.get("HX-Request")) {
    event.respondWith(networkFirst(request));
  }
});
{% endautoescape %}
