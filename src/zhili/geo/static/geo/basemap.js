/* The base map on every Leaflet page: Zhili's own vector tiles (roads, boundaries, names)
 * drawn on canvas, under the raster tiles of ZHILI_TILES_FILE or ZHILI_TILE_URL when set.
 *
 * Include geo/basemap.html (its JSON config and this file) after leaflet.js, then:
 *   ZhiliBasemap.addTo(map)              the layers and their attribution
 *   ZhiliBasemap.toDisplay(lon, lat)     a stored WGS84 point as an L.LatLng on this map
 *   ZhiliBasemap.fromDisplay(latlng)     a point on this map as WGS84 {lon, lat}
 *   ZhiliBasemap.vectorOptions()         options for L.geoJSON of WGS84 data
 * With GCJ-02 tiles (AMap, Tencent) the display is GCJ-02: stored WGS84 is shifted
 * forward for display and what the user taps is shifted back (zhili/geo/coords.py). */
(function () {
  'use strict';

  var node = document.getElementById('basemap-config');
  var config = node ? JSON.parse(node.textContent) : { crs: 'wgs84' };
  var english = !/^zh/i.test(config.lang || '');

  // -- WGS84 ↔ GCJ-02 (the published forward transform; the inverse by iteration) --
  var A = 6378245.0, EE = 0.00669342162296594323;
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function outside(lon, lat) { return lon < 72 || lon > 137 || lat < 0 || lat > 55; }
  function toGcj(lon, lat) {
    if (outside(lon, lat)) { return [lon, lat]; }
    var dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180) / (A / sq * Math.cos(rad) * Math.PI);
    return [lon + dLon, lat + dLat];
  }
  function toWgs(lon, lat) {
    if (outside(lon, lat)) { return [lon, lat]; }
    var w = [lon, lat];
    for (var i = 0; i < 30; i++) {  // w ← w + (g − forward(w)); ~5 steps to 1e-9°
      var f = toGcj(w[0], w[1]), rx = lon - f[0], ry = lat - f[1];
      w = [w[0] + rx, w[1] + ry];
      if (Math.abs(rx) < 1e-9 && Math.abs(ry) < 1e-9) { break; }
    }
    return w;
  }
  var gcj = config.crs === 'gcj02';
  function toDisplay(lon, lat) {
    var p = gcj ? toGcj(lon, lat) : [lon, lat];
    return L.latLng(p[1], p[0]);
  }
  function fromDisplay(latlng) {
    var p = gcj ? toWgs(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
    return { lon: p[0], lat: p[1] };
  }
  function vectorOptions(extra) {
    var o = { coordsToLatLng: function (c) { return toDisplay(c[0], c[1]); } };
    Object.keys(extra || {}).forEach(function (k) { o[k] = extra[k]; });
    return o;
  }

  // -- the vector base, drawn tile by tile on canvas --
  var LAND = '#f4f1ea';
  var BOUNDARY = {
    grid: { color: '#cfc8dc', width: 0.8, dash: [2, 3] },
    community: { color: '#b1a6cc', width: 1, dash: [4, 3] },
    street: { color: '#8d80b8', width: 1.4, dash: [7, 3] },
    district: { color: '#6b5a9e', width: 2.4, dash: [] }
  };
  var ROAD = {  // casing, fill, width at z14 (px); wider as one zooms in
    residential: ['#d9d2c3', '#ffffff', 2.5],
    secondary: ['#d8b868', '#fff4cf', 4],
    primary: ['#c98e2c', '#ffd27a', 5.5]
  };
  var LABEL = {
    district: 'bold 14px sans-serif', street: '600 12px sans-serif',
    community: '11px sans-serif', grid: '10px sans-serif',
    primary: '600 11px sans-serif', secondary: '11px sans-serif', residential: '10px sans-serif'
  };

  function project(lon, lat, z, origin) {
    var p = L.CRS.EPSG3857.latLngToPoint(L.latLng(lat, lon), z);
    return [p.x - origin.x, p.y - origin.y];
  }

  function path(ctx, lines, z, origin) {
    ctx.beginPath();
    lines.forEach(function (line) {
      line.forEach(function (c, i) {
        var p = project(c[0], c[1], z, origin);
        if (i) { ctx.lineTo(p[0], p[1]); } else { ctx.moveTo(p[0], p[1]); }
      });
    });
  }

  function draw(ctx, fc, z, origin, size, withRoads) {
    if (withRoads) { ctx.fillStyle = LAND; ctx.fillRect(0, 0, size, size); }
    ctx.lineJoin = 'round'; ctx.lineCap = 'round';
    var by = { boundary: [], road: [], label: [] };
    fc.features.forEach(function (f) { (by[f.properties.layer] || []).push(f); });
    by.boundary.forEach(function (f) {
      var s = BOUNDARY[f.properties.level];
      ctx.setLineDash(s.dash); ctx.strokeStyle = s.color; ctx.lineWidth = s.width;
      path(ctx, f.geometry.coordinates, z, origin); ctx.stroke();
    });
    ctx.setLineDash([]);
    if (withRoads) {
      var scale = Math.pow(1.35, z - 14);
      [0, 1].forEach(function (pass) {  // casings under fills, so crossings join
        ['residential', 'secondary', 'primary'].forEach(function (kind) {
          var s = ROAD[kind];
          ctx.strokeStyle = s[pass];
          ctx.lineWidth = Math.max(1, s[2] * scale) + (pass ? 0 : 2);
          by.road.forEach(function (f) {
            if (f.properties.kind === kind) { path(ctx, f.geometry.coordinates, z, origin); ctx.stroke(); }
          });
        });
      });
    }
    ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    ctx.strokeStyle = 'rgba(255,255,255,0.9)'; ctx.lineWidth = 3;
    by.label.forEach(function (f) {
      var p = f.properties, kind = p.level || p.kind;
      if (p.kind && !withRoads) { return; }
      var text = (english && p.name_en) ? p.name_en : p.name;
      if (!text) { return; }
      var at = project(f.geometry.coordinates[0], f.geometry.coordinates[1], z, origin);
      ctx.save();
      ctx.translate(at[0], at[1]);
      if (p.along) {  // follow the road, never upside down
        var to = project(p.along[0], p.along[1], z, origin);
        var angle = Math.atan2(to[1] - at[1], to[0] - at[0]);
        if (angle > Math.PI / 2) { angle -= Math.PI; } else if (angle < -Math.PI / 2) { angle += Math.PI; }
        ctx.rotate(angle);
      }
      ctx.font = LABEL[kind] || '11px sans-serif';
      ctx.fillStyle = p.level ? '#3c3360' : '#4a4130';
      ctx.strokeText(text, 0, 0); ctx.fillText(text, 0, 0);
      ctx.restore();
    });
  }

  var stats = { tiles: 0, features: 0 };
  var VectorBase = L.GridLayer.extend({
    createTile: function (coords, done) {
      var tile = L.DomUtil.create('canvas', 'zhili-base-tile');
      var size = this.getTileSize(), ratio = window.devicePixelRatio || 1;
      tile.width = size.x * ratio; tile.height = size.y * ratio;
      var url = L.Util.template(config.base, { z: coords.z, x: coords.x, y: coords.y });
      var withRoads = this.options.roads;
      fetch(url, { credentials: 'same-origin' }).then(function (r) {
        if (!r.ok) { throw new Error('base tile ' + r.status); }
        return r.json();
      }).then(function (fc) {
        var ctx = tile.getContext('2d');
        ctx.scale(ratio, ratio);
        draw(ctx, fc, coords.z, coords.scaleBy(size), size.x, withRoads);
        tile.dataset.features = String(fc.features.length);
        stats.tiles += 1; stats.features += fc.features.length;
        document.body.dataset.basemapTiles = String(stats.tiles);
        document.body.dataset.basemapFeatures = String(stats.features);
        done(null, tile);
      }).catch(function (err) { done(err, tile); });
      return tile;
    }
  });

  function addTo(map) {
    var layers = {};
    if (config.tiles) {
      layers.tiles = L.tileLayer(config.tiles, {
        attribution: config.tilesAttribution || '', minNativeZoom: config.tilesMinZoom,
        maxNativeZoom: config.tilesMaxZoom, maxZoom: 19, zIndex: 1
      }).addTo(map);
    }
    if (config.base) {
      // Over raster tiles only boundaries and area names: the tiles have the roads.
      layers.base = new VectorBase({
        roads: !config.tiles, maxZoom: 19, attribution: config.baseAttribution || '',
        zIndex: 2, className: 'zhili-base'
      }).addTo(map);
    }
    return layers;
  }

  window.ZhiliBasemap = {
    config: config, addTo: addTo, toDisplay: toDisplay, fromDisplay: fromDisplay,
    vectorOptions: vectorOptions, toGcj: toGcj, toWgs: toWgs
  };
})();
