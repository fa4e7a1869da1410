/* The report form's pin: tap the map, drag the pin, or use the browser's location.
 *
 * The browser's geolocation is WGS84. A WeChat or AMap wrapper that has GCJ-02
 * coordinates opens the page as /governance/report/?lon=…&lat=…&crs=gcj02 (or
 * sets the hidden crs field); the server converts at intake. Taps on the map are
 * in the map's display CRS (GCJ-02 with AMap/Tencent tiles) and are converted back
 * to WGS84 here (geo/basemap.js) before they are sent.
 */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("report-form");
    if (!form) { return; }
    var lon = form.querySelector("input[name=lon]");
    var lat = form.querySelector("input[name=lat]");
    var crs = form.querySelector("input[name=crs]");
    var shown = document.getElementById("coords");
    var el = document.getElementById("pick-map");
    var map = null;
    var marker = null;

    var params = new URLSearchParams(window.location.search);
    if (params.get("lon") && params.get("lat")) {
      lon.value = params.get("lon");
      lat.value = params.get("lat");
      crs.value = params.get("crs") || "wgs84";
    }

    function show() {
      if (!shown) { return; }
      if (!lon.value || !lat.value) { shown.textContent = shown.dataset.none || ""; return; }
      // Longitude first, as the pin's label and every error message say it.
      shown.textContent = Number(lon.value).toFixed(6) + ", " + Number(lat.value).toFixed(6) +
        (crs.value && crs.value !== "wgs84" ? " (" + crs.value.toUpperCase() + ")" : "");
    }

    var base = window.ZhiliBasemap;
    var mapCrs = base ? base.config.crs : (el && el.dataset.crs) || "wgs84";

    // A point in `from` as it sits on this map (the start may come in either CRS).
    function onMap(lonv, latv, from) {
      if (base && from === "wgs84") { return base.toDisplay(lonv, latv); }
      if (base && from === "gcj02" && mapCrs === "wgs84") {
        var w = base.toWgs(lonv, latv);
        return L.latLng(w[1], w[0]);
      }
      return L.latLng(latv, lonv);
    }

    // A point on the map (display CRS) is kept as WGS84.
    function place(latlng) {
      var w = base ? base.fromDisplay(latlng) : { lon: latlng.lng, lat: latlng.lat };
      lat.value = w.lat.toFixed(7);
      lon.value = w.lon.toFixed(7);
      crs.value = base ? "wgs84" : mapCrs;
      if (marker) { marker.setLatLng(latlng); }
      show();
    }

    if (el && window.L) {
      map = L.map(el);
      if (base) { base.addTo(map); }  // roads, boundaries, names (geo)
      var start = lat.value && lon.value
        ? onMap(Number(lon.value), Number(lat.value), crs.value || "wgs84")
        : L.latLng(Number(el.dataset.lat), Number(el.dataset.lon));  // already in the map's CRS
      var outline = el.dataset.outline ? JSON.parse(el.dataset.outline) : null;
      if (outline) {
        var layer = L.geoJSON(outline, { style: { color: "#b3261e", weight: 2, fillOpacity: 0.06 } }).addTo(map);
        map.fitBounds(layer.getBounds(), { maxZoom: 17 });
      } else {
        map.setView(start, 16);
      }
      marker = L.marker(start, { draggable: true, keyboard: true }).addTo(map);
      el.zhiliMap = map;  // for a WebView wrapper (and the browser test) to drive the map
      map.on("click", function (e) { place(e.latlng); });
      marker.on("dragend", function () { place(marker.getLatLng()); });
    }

    var me = document.getElementById("locate-me");
    if (me) {
      if (!navigator.geolocation) { me.hidden = true; }
      me.addEventListener("click", function () {
        me.disabled = true;
        navigator.geolocation.getCurrentPosition(function (p) {
          me.disabled = false;
          var latlng = base ? base.toDisplay(p.coords.longitude, p.coords.latitude)
            : { lat: p.coords.latitude, lng: p.coords.longitude };
          place(latlng);
          if (map) { map.setView(latlng, 17); }
        }, function (err) {
          me.disabled = false;
          if (shown) { shown.textContent = (me.dataset.failed || "") + " (" + err.message + ")"; }
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }

    var photos = form.querySelector("input[name=photos]");
    var preview = document.getElementById("photo-preview");
    if (photos) {
      photos.addEventListener("change", function () {
        var max = Number(photos.dataset.max || 6);
        photos.setCustomValidity(photos.files.length > max ? (photos.dataset.tooMany || "too many") : "");
        photos.reportValidity();
        if (!preview) { return; }
        preview.textContent = "";
        Array.prototype.slice.call(photos.files, 0, max).forEach(function (file) {
          if (!/^image\//.test(file.type)) { return; }
          var img = document.createElement("img");
          img.alt = file.name;
          img.src = URL.createObjectURL(file);
          preview.appendChild(img);
        });
      });
    }

    // Each category's own questions: only the chosen one's fieldset is enabled (and sent).
    var category = form.querySelector("select[name=category]");
    function questions() {
      form.querySelectorAll("fieldset.attributes").forEach(function (fs) {
        var on = fs.dataset.category === category.value;
        fs.disabled = !on;
        fs.hidden = !on;
      });
    }
    if (category) { category.addEventListener("change", questions); questions(); }

    form.addEventListener("reset", function () { setTimeout(function () { show(); questions(); }, 0); });
    show();
  });
})();
