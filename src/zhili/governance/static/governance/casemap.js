/* The case page's small map: the case's pin inside its grid's outline. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("case-map");
    if (!el || !window.L) { return; }
    var point = L.latLng(Number(el.dataset.lat), Number(el.dataset.lon));
    var map = L.map(el, { scrollWheelZoom: false });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    }
    if (el.dataset.outline) {
      var layer = L.geoJSON(JSON.parse(el.dataset.outline),
        { style: { color: "#b3261e", weight: 2, fillOpacity: 0.06 } }).addTo(map);
      map.fitBounds(layer.getBounds().extend(point), { maxZoom: 17 });
    } else {
      map.setView(point, 16);
    }
    L.marker(point).addTo(map);
  });
})();
