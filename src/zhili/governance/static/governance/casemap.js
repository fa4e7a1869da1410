/* The case page's small map: the case's pin inside its grid's outline, over geo's base map.
 * The server gives the point and outline already in the map's display CRS (views/maps.py). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("case-map");
    if (!el || !window.L) { return; }
    var point = L.latLng(Number(el.dataset.lat), Number(el.dataset.lon));
    var map = L.map(el, { scrollWheelZoom: false });
    if (window.ZhiliBasemap) { ZhiliBasemap.addTo(map); }  // roads, boundaries, names (geo)
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
