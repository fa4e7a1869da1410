/* The area map: vector layers from /api/v1/geo/nodes/{code}/children, drilled down
 * district → street → community → grid, over the base map (geo/basemap.js). Boundaries
 * are WGS84; with GCJ-02 tiles (AMap, Tencent) the overlays are shifted for display.
 * Strings come from Django's JavaScript catalog (gettext). */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('map-config').textContent);
  var gettext = window.gettext || function (s) { return s; };
  var LEVELS = {
    city: gettext('City'),
    district: gettext('District / county'),
    street: gettext('Street / town'),
    community: gettext('Community / village'),
    grid: gettext('Grid')
  };
  var english = !/^zh/i.test(config.lang || '');
  var crumbs = document.querySelector('.breadcrumbs');
  var info = document.getElementById('area-info');
  var layer = null;
  var requestSeq = 0;

  // Stored WGS84, drawn in the display CRS of the base map (GCJ-02 with AMap/Tencent tiles).
  var latLng = ZhiliBasemap.toDisplay;

  // -- the map --
  var map = L.map('map', { zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
  ZhiliBasemap.addTo(map);

  // The apps' overlays (config.layers): fetched when first switched on.
  if (config.layers && config.layers.length) {
    var overlays = {};
    config.layers.forEach(function (spec) {
      var group = L.geoJSON(null, {
        coordsToLatLng: function (c) { return latLng(c[0], c[1]); },
        style: function () { return { className: 'overlay overlay-' + spec.name, weight: 2 }; },
        onEachFeature: function (f, l) {
          var name = f.properties && (f.properties.label || f.properties.name);
          if (name) { l.bindTooltip(String(name)); }
        }
      });
      group.on('add', function () {
        if (group.loaded) { return; }
        group.loaded = true;
        getJSON(spec.url).then(function (fc) {
          group.addData(fc);
          document.body.dataset['layer' + spec.name.charAt(0).toUpperCase() + spec.name.slice(1)] = 'ready';
        }).catch(function (err) { group.loaded = false; renderError(err.message); });
      });
      overlays[spec.label] = group;
    });
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  }

  function label(node) { return (english && node.name_en) ? node.name_en : node.name; }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return {}; }).then(function (p) {
            throw new Error(p.detail || p.title || (gettext('Request failed') + ' (' + r.status + ')'));
          });
        }
        return r.json();
      });
  }

  function renderCrumbs(node) {
    crumbs.textContent = '';
    node.ancestors.concat([node]).forEach(function (n, i, all) {
      if (i) { crumbs.appendChild(el('span', { 'class': 'sep', 'aria-hidden': 'true' }, '›')); }
      var b = el('button', { type: 'button', 'data-code': n.code, 'data-level': n.level }, label(n));
      if (i === all.length - 1) { b.setAttribute('aria-current', 'location'); }
      b.addEventListener('click', function () { go(n.code); });
      crumbs.appendChild(b);
    });
  }

  function renderInfo(node, children) {
    info.textContent = '';
    info.dataset.level = node.level;
    info.dataset.code = node.code;
    info.appendChild(el('h2', { 'class': 'area-name' }, label(node)));
    var sub = el('p', { 'class': 'muted area-level' }, LEVELS[node.level] + ' · ' + node.code + ' ');
    if (node.synthetic) {
      sub.appendChild(el('span', { 'class': 'badge synthetic', title: gettext('Generated boundary, not an official one.') },
        gettext('synthetic boundary')));
    }
    info.appendChild(sub);
    var dl = el('dl');
    function row(k, v) { dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, v)); }
    node.ancestors.slice(1).reverse().forEach(function (a) { row(LEVELS[a.level], label(a) + ' (' + a.code + ')'); });
    if (english && node.name) { row(gettext('Chinese name'), node.name); }
    if (!english && node.name_en) { row(gettext('English name'), node.name_en); }
    row(gettext('Centre'), node.centre[1].toFixed(5) + ', ' + node.centre[0].toFixed(5));
    if (node.level !== 'grid') { row(gettext('Areas below'), String(node.child_count)); }
    info.appendChild(dl);
    if (children && children.length) {
      var list = el('ul', { 'class': 'children-list', 'aria-label': gettext('Areas below') });
      children.forEach(function (f) {
        var li = el('li');
        var b = el('button', { type: 'button', 'data-code': f.properties.code }, label(f.properties));
        b.addEventListener('click', function () { go(f.properties.code); });
        li.appendChild(b);
        list.appendChild(li);
      });
      info.appendChild(list);
    }
  }

  function renderError(message) {
    var p = el('p', { 'class': 'map-error', role: 'alert' }, message);
    info.appendChild(p);
  }

  function draw(collection, highlight) {
    if (layer) { map.removeLayer(layer); }
    layer = L.geoJSON(collection, {
      coordsToLatLng: function (c) { return latLng(c[0], c[1]); },
      style: function (f) {
        var mine = f.properties.code === highlight;
        return {
          className: 'area area-' + f.properties.code,
          color: mine ? '#b3261e' : '#0b57d0',
          weight: mine ? 3 : 1.5,
          fillOpacity: mine ? 0.3 : (highlight ? 0.05 : 0.15),
          dashArray: f.properties.synthetic ? '4 3' : null
        };
      },
      onEachFeature: function (f, l) {
        l.bindTooltip(label(f.properties), { sticky: true });
        l.on('click', function () { if (f.properties.code !== highlight) { go(f.properties.code); } });
      }
    }).addTo(map);
  }

  function fit(bbox) {
    var b = L.latLngBounds(latLng(bbox[0], bbox[1]), latLng(bbox[2], bbox[3]));
    map.fitBounds(b, { padding: [12, 12] });
    return Math.max(0, Math.min(22, Math.round(map.getBoundsZoom(b))));
  }

  function show(code) {
    var seq = ++requestSeq;
    var api = config.api + 'nodes/';
    getJSON(api + encodeURIComponent(code)).then(function (node) {
      if (seq !== requestSeq) { return; }
      renderCrumbs(node);
      var zoom = fit(node.bbox);
      // A grid has no children: show it among its (visible) siblings instead.
      var leaf = node.child_count === 0 && node.parent_code;
      var from = leaf ? node.parent_code : node.code;
      return getJSON(api + encodeURIComponent(from) + '/children?zoom=' + zoom).then(function (fc) {
        if (seq !== requestSeq) { return; }
        draw(fc, leaf ? node.code : null);
        renderInfo(node, leaf ? [] : fc.features);
        document.body.dataset.mapReady = node.code;
      });
    }).catch(function (err) {
      if (seq !== requestSeq) { return; }
      renderError(err.message);
    });
  }

  function go(code) {
    if (location.hash !== '#' + code) { location.hash = code; } else { show(code); }
  }

  window.addEventListener('hashchange', function () {
    var code = location.hash.slice(1);
    if (/^\d{2,15}$/.test(code)) { show(code); }
  });

  var first = location.hash.slice(1);
  if (/^\d{2,15}$/.test(first)) { show(first); }
  else if (config.start) { show(config.start); }
})();
