/* The run's results map: every node of the model, flooded ones coloured by the
 * warning level their flooding reaches and sized by volume. Coordinates are
 * WGS84, drawn over the shared base map (geo/basemap.js, GCJ-02 shift in one place). */
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('flood-map-config').textContent);
  var el = document.getElementById('flood-map');
  if (!el || !window.L) { return; }
  var COLOURS = { grey: '#8c959f', blue: '#1f6feb', yellow: '#d4a72c', orange: '#e36209', red: '#cf222e' };
  var map = L.map(el, { zoomSnap: 0.25 });
  var base = window.ZhiliBasemap;
  if (base) { base.addTo(map); }
  fetch(config.nodes, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then(function (r) { return r.json(); })
    .then(function (fc) {
      var layer = L.geoJSON(fc, {
        coordsToLatLng: function (c) { return base ? base.toDisplay(c[0], c[1]) : L.latLng(c[1], c[0]); },
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          var radius = p.flooded ? 5 + Math.min(10, Math.sqrt(p.volume_m3 || 0) / 4) : 3;
          return L.circleMarker(latlng, {
            radius: radius, weight: 1, color: '#24292f', fillOpacity: p.flooded ? 0.9 : 0.5,
            fillColor: COLOURS[p.colour || 'grey'], className: p.flooded ? 'node-flooded' : 'node-dry'
          });
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          var text = p.name + (p.flooded ? ' · ' + Math.round(p.volume_m3) + ' m³ · ' +
            p.hours.toFixed(1) + ' h · ' + p.depth_m.toFixed(2) + ' m' : '');
          l.bindTooltip(text);
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds().pad(0.1)); }
      else { map.setView([29.56, 106.55], 12); }
      document.body.dataset.floodMap = 'ready';
    })
    .catch(function () { document.body.dataset.floodMap = 'error'; });
}());
