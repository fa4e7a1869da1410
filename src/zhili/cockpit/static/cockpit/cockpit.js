/* The one map: every app's layers over the viewer's area, the headline figures, live
 * updates (server-sent events under ASGI, else polling the same event log), a detail
 * panel for whatever is clicked and one-click dispatch of a case.
 * Config comes from <script type="application/json" id="cockpit-config">; strings from
 * Django's JavaScript catalog. No inline code (CSP). */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('cockpit-config').textContent);
  var gettext = window.gettext || function (s) { return s; };
  var english = !/^zh/i.test(config.lang || '');
  var CLUSTER_BELOW_ZOOM = 14, CLUSTER_PX = 56, CLUSTER_MIN = 40;
  var STATUS_COLOURS = {
    reported: '#b3261e', reopened: '#b3261e', accepted: '#ef6c00',
    dispatched: '#ef6c00', on_site: '#1565c0'
  };
  var WARNING_COLOURS = { red: '#c62828', orange: '#ef6c00', yellow: '#f9a825', blue: '#1565c0', grey: '#757575' };
  var liveState = document.querySelector('.live-state');
  var detail = document.getElementById('cockpit-detail');

  // Points are stored in WGS84; the base map (geo/basemap.js) shows them over its
  // tiles, shifted to GCJ-02 when the tiles are (one transform for every map).
  var latLng = ZhiliBasemap.toDisplay;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function problemText(r) {
    return r.json().catch(function () { return {}; }).then(function (p) {
      throw new Error(p.detail || p.title || (gettext('Request failed') + ' (' + r.status + ')'));
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : problemText(r); });
  }

  function csrfToken() {
    var input = document.querySelector('input[name=csrfmiddlewaretoken]');
    return input ? input.value : '';
  }

  // -- the map and the area's boundaries --
  var map = L.map('cockpit-map', { zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
  map.setView([29.56, 106.55], 11);
  ZhiliBasemap.addTo(map);
  var boundaries = L.geoJSON(null, {
    coordsToLatLng: function (c) { return latLng(c[0], c[1]); },
    style: function () { return { className: 'area', color: '#0b57d0', weight: 1.2, fillOpacity: 0.04 }; },
    onEachFeature: function (f, l) { l.bindTooltip(english && f.properties.name_en ? f.properties.name_en : f.properties.name, { sticky: true }); }
  }).addTo(map);

  function showArea(code) {
    var api = config.geoApi + 'nodes/';
    return getJSON(api + encodeURIComponent(code)).then(function (node) {
      var b = L.latLngBounds(latLng(node.bbox[0], node.bbox[1]), latLng(node.bbox[2], node.bbox[3]));
      // Not animated: Leaflet drops a setView made during a zoom animation, and the
      // ?at= focus (focusPoint) comes right after this.
      map.fitBounds(b, { padding: [8, 8], animate: false });
      var zoom = Math.max(0, Math.min(22, Math.round(map.getBoundsZoom(b))));
      var from = node.child_count === 0 && node.parent_code ? node.parent_code : node.code;
      return getJSON(api + encodeURIComponent(from) + '/children?zoom=' + zoom).then(function (fc) {
        boundaries.clearLayers();
        boundaries.addData(fc);
      });
    });
  }

  // -- detail panel --
  function showDetail(layerName, props) {
    detail.textContent = '';
    var title = props.tracking_no || props.name || props.label || props.code || '';
    detail.appendChild(el('h3', null, title));
    var dl = el('dl');
    function row(k, v) {
      if (v === undefined || v === null || v === '') { return; }
      dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, String(v)));
    }
    if (layerName === 'cases') {
      row(gettext('Category'), english && props.category_en ? props.category_en : props.category);
      row(gettext('Status'), props.status_label || props.status);
      row(gettext('Overdue'), props.overdue ? gettext('yes') : gettext('no'));
      row(gettext('Assigned'), props.assigned ? gettext('yes') : gettext('no'));
    } else if (layerName === 'workers') {
      row(gettext('Last seen'), new Date(props.at).toLocaleString());
      if (props.stale) { row(gettext('Position'), gettext('stale')); }
    } else {
      Object.keys(props).forEach(function (k) {
        if (['url', 'colour', 'synthetic'].indexOf(k) < 0 && typeof props[k] !== 'object') { row(k, props[k]); }
      });
    }
    detail.appendChild(dl);
    if (props.url) {
      detail.appendChild(el('p')).appendChild(el('a', { href: props.url }, gettext('Open the detail page')));
    }
    if (layerName === 'cases' && props.dispatchable && config.dispatch &&
        (props.status === 'reported' || props.status === 'reopened')) {
      var button = el('button', { type: 'button', 'class': 'primary dispatch', 'data-case': String(props.case) },
        gettext('Dispatch to the nearest free worker'));
      button.addEventListener('click', function () { dispatch(props, button); });
      detail.appendChild(button);
    }
    // A warning (a risk point with one open) or an open incident: the nearest free team.
    var from = layerName === 'incidents' && props.number ? ['incidents', props.number] :
      (layerName === 'risk-points' && props.warning ? ['warnings', props.warning] : null);
    if (from && config.dispatchTeam) {
      var teamButton = el('button', { type: 'button', 'class': 'primary dispatch-team', 'data-from': from.join('/') },
        gettext('Dispatch the nearest free rescue team'));
      teamButton.addEventListener('click', function () { dispatchTeam(from, teamButton); });
      detail.appendChild(teamButton);
    }
  }

  var routeLines = L.layerGroup().addTo(map);
  function dispatchTeam(from, button) {
    button.disabled = true;
    var url = config.dispatchTeam.replace('{kind}', from[0]).replace('{number}', encodeURIComponent(from[1]));
    fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: '{}'
    }).then(function (r) { return r.ok ? r.json() : problemText(r); }).then(function (d) {
      var text = d.eta_seconds === null ? interpolate(gettext('%s sent to incident %s.'), [d.resource.name, d.incident]) :
        interpolate(gettext('%s sent to incident %s, arriving in about %s min.'),
          [d.resource.name, d.incident, Math.max(1, Math.round(d.eta_seconds / 60))]);
      detail.appendChild(el('p', { 'class': 'dispatch-result', 'data-resource': d.resource.code, 'data-incident': d.incident }, text));
      // Whether the team heard of it: its accounts were sent the message (in-app and SMS),
      // or, without accounts, its contact phone an SMS with a link to acknowledge.
      detail.appendChild(el('p', { 'class': 'dispatch-notified', 'data-notified': String(d.notified || 0),
                                   'data-notified-to': d.notified_to || '' },
        d.notified_to === 'contact' ? gettext('The team has no account on the platform: its contact phone has been sent an SMS asking to acknowledge.') :
          d.notified ? gettext('The team has been notified and is asked to acknowledge.') :
            gettext('The team has no account on the platform: call its contact.')));
      // On the map: the team's way to the place (a straight guide line; the time is the roads').
      routeLines.addLayer(L.polyline([latLng(d.resource.lon, d.resource.lat), latLng(d.incident_lon, d.incident_lat)],
        { className: 'team-route', color: '#c62828', weight: 3, dashArray: '6 6' }).bindTooltip(text));
      button.remove();
      refresh('incidents'); refresh('rescue-resources');
    }).catch(function (err) {
      button.disabled = false;
      detail.appendChild(el('p', { 'class': 'map-error', role: 'alert' }, err.message));
    });
  }

  function dispatch(props, button) {
    button.disabled = true;
    var url = config.dispatch.replace('/cases/0/', '/cases/' + props.case + '/');
    fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: JSON.stringify({ version: props.version })
    }).then(function (r) { return r.ok ? r.json() : problemText(r); }).then(function (d) {
      var minutes = Math.max(1, Math.round(d.travel_seconds / 60));
      detail.appendChild(el('p', { 'class': 'dispatch-result', 'data-assignee': d.assignee },
        interpolate(gettext('Dispatched to %s, about %s min away.'), [d.assignee, minutes])));
      button.remove();
      refresh('cases');
    }).catch(function (err) {
      button.disabled = false;
      detail.appendChild(el('p', { 'class': 'map-error', role: 'alert' }, err.message));
    });
  }

  function interpolate(fmt, args) {
    if (window.interpolate) { return window.interpolate(fmt, args); }
    var i = 0;
    return fmt.replace(/%s/g, function () { return String(args[i++]); });
  }

  // -- the apps' layers --
  var layers = {};

  function colourOf(name, props) {
    if (name === 'cases') { return props.overdue ? '#6a1b9a' : (STATUS_COLOURS[props.status] || '#455a64'); }
    if (name === 'workers') { return props.stale ? '#9e9e9e' : '#1e8e3e'; }
    return WARNING_COLOURS[props.colour] || props.colour || '#455a64';
  }

  function marker(name, f) {
    var c = f.geometry.coordinates, p = f.properties || {};
    var cls = 'marker marker-' + name + (p.tracking_no ? ' case-' + p.tracking_no : '') +
      (p.worker ? ' worker-' + p.worker : '') + (p.overdue ? ' overdue' : '') + (p.stale ? ' stale' : '') +
      (name === 'incidents' && p.number ? ' incident-' + p.number : '') +
      (name === 'risk-points' && p.warning ? ' warning-' + p.warning : '');
    var m = L.circleMarker(latLng(c[0], c[1]), {
      radius: name === 'workers' ? 6 : 7, weight: 2, color: '#fff', fillColor: colourOf(name, p),
      fillOpacity: 0.9, className: cls, dashArray: p.stale ? '2 2' : null
    });
    m.bindTooltip(String(p.tracking_no || p.name || p.label || p.code || ''));
    m.on('click', function () { showDetail(name, p); });
    return m;
  }

  function draw(state) {
    state.group.clearLayers();
    var points = [], shapes = [];
    state.features.forEach(function (f) {
      (f.geometry && f.geometry.type === 'Point' ? points : shapes).push(f);
    });
    if (shapes.length) {
      state.group.addLayer(L.geoJSON({ type: 'FeatureCollection', features: shapes }, {
        coordsToLatLng: function (c) { return latLng(c[0], c[1]); },
        style: function (f) { return { className: 'overlay overlay-' + state.name, color: colourOf(state.name, f.properties || {}), weight: 2, fillOpacity: 0.12 }; },
        onEachFeature: function (f, l) { l.on('click', function () { showDetail(state.name, f.properties || {}); }); }
      }));
    }
    // Many points at a low zoom: one marker per screen cell with the count (a
    // viewport layer's clusters come counted from the server).
    if (!state.clustered && map.getZoom() < CLUSTER_BELOW_ZOOM && points.length >= CLUSTER_MIN) {
      var cells = {};
      points.forEach(function (f) {
        var c = f.geometry.coordinates, px = map.project(latLng(c[0], c[1]));
        var key = Math.floor(px.x / CLUSTER_PX) + ':' + Math.floor(px.y / CLUSTER_PX);
        (cells[key] = cells[key] || []).push(f);
      });
      Object.keys(cells).forEach(function (key) {
        var members = cells[key];
        if (members.length === 1) { state.group.addLayer(marker(state.name, members[0])); return; }
        var lon = 0, lat = 0;
        members.forEach(function (f) { lon += f.geometry.coordinates[0]; lat += f.geometry.coordinates[1]; });
        state.group.addLayer(clusterMarker(state.name, latLng(lon / members.length, lat / members.length),
          members.length, null));
      });
    } else {
      points.forEach(function (f) {
        state.group.addLayer(f.properties && f.properties.cluster ? counted(state.name, f) : marker(state.name, f));
      });
    }
    document.body.dataset['layer' + camel(state.name)] = String(state.features.length);
    if (state.total !== undefined) { document.body.dataset['total' + camel(state.name)] = String(state.total); }
  }

  function clusterMarker(name, at, count, colour) {
    var size = count < 10 ? 26 : (count < 100 ? 32 : (count < 10000 ? 40 : 48));
    var m = L.marker(at, { icon: L.divIcon({ className: 'cluster-marker cluster-' + name +
      (colour ? ' cluster-' + colour : ''), html: '', iconSize: [size, size] }) });
    m.on('add', function () { if (m._icon) { m._icon.textContent = count.toLocaleString(); } });
    m.on('click', function () { map.setView(at, Math.min(map.getZoom() + 2, 18)); });
    return m;
  }

  // A cluster the server counted: its count, in the colour it names (risk points: the
  // most severe open warning among them; cases: purple when one is overdue).
  function counted(name, f) {
    var c = f.geometry.coordinates, p = f.properties;
    var m = clusterMarker(name, latLng(c[0], c[1]), p.count, p.colour);
    m.options.title = interpolate(gettext('%s points'), [p.count]);
    return m;
  }

  // What the map shows, for a viewport layer: the box in stored WGS84 degrees.
  function viewportQuery() {
    var b = map.getBounds(), sw = ZhiliBasemap.fromDisplay(b.getSouthWest()),
      ne = ZhiliBasemap.fromDisplay(b.getNorthEast());
    function clamp(v, limit) { return Math.max(-limit, Math.min(limit, v)).toFixed(5); }
    return 'bbox=' + [clamp(sw.lon, 180), clamp(sw.lat, 85), clamp(ne.lon, 180), clamp(ne.lat, 85)].join(',') +
      '&zoom=' + Math.max(0, Math.floor(map.getZoom()));
  }

  function camel(name) {
    return name.split(/[-_]/).map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join('');
  }

  function load(state) {
    var seq = ++state.seq;
    var view = state.spec.viewport ? viewportQuery() : null;
    return getJSON(view ? state.spec.url + '?' + view : state.spec.url).then(function (fc) {
      if (seq !== state.seq) { return; }
      state.features = fc.features || [];
      state.total = fc.total;
      state.clustered = !!fc.clustered;
      draw(state);
      if (view) { document.body.dataset['view' + camel(state.name)] = view; }
    }).catch(function (err) { showError(err.message); });
  }

  function showError(message) {
    detail.appendChild(el('p', { 'class': 'map-error', role: 'alert' }, message));
  }

  var overlays = {};
  (config.layers || []).forEach(function (spec) {
    var state = { name: spec.name, spec: spec, group: L.layerGroup().addTo(map), features: [], seq: 0 };
    layers[spec.name] = state;
    overlays[spec.label] = state.group;
    if (!spec.viewport) { load(state); }  // viewport layers: once the area is fitted (below)
  });
  L.control.layers(null, overlays, { collapsed: window.innerWidth < 720 }).addTo(map);
  map.on('zoomend', function () {
    Object.keys(layers).forEach(function (k) {
      if (!layers[k].spec.viewport && layers[k].features.length >= CLUSTER_MIN) { draw(layers[k]); }
    });  // (a viewport layer is asked again on moveend, below)
  });
  // Viewport layers are asked again for what the map now shows, once it settles.
  var moved = null, fitted = false;
  function loadViewportLayers() {
    Object.keys(layers).forEach(function (k) { if (layers[k].spec.viewport) { load(layers[k]); } });
  }
  map.on('moveend', function () {
    if (!fitted) { return; }  // the start's own moves: the first load follows them
    clearTimeout(moved);
    moved = setTimeout(loadViewportLayers, 200);
  });

  // -- the side panel --
  function setFigure(name, value) {
    var dd = document.querySelector('[data-figure=' + name + ']');
    if (dd) { dd.textContent = value === null || value === undefined ? '–' : String(value); }
  }
  function loadFigures() {
    return getJSON(config.figures).then(function (f) {
      if (f.cases) { setFigure('open', f.cases.open); setFigure('overdue', f.cases.overdue); }
      if (f.warnings) {
        setFigure('warnings', f.warnings.total);
        ['1', '2', '3', '4'].forEach(function (lv) { setFigure('w' + lv, f.warnings[lv]); });
      }
      setFigure('workers', f.workers.fresh + (f.workers.stale ? ' (+' + f.workers.stale + ' ' + gettext('stale') + ')' : ''));
    }).catch(function (err) { showError(err.message); });
  }

  // -- live updates: which layers an event touches, refreshed once per burst --
  var KIND_LAYERS = { 'case': ['cases'], worker: ['workers'], warning: ['risk-points', 'cases'] };
  var pending = {}, timer = null;
  function refresh(name) {
    pending[name] = true;
    if (timer) { return; }
    timer = setTimeout(function () {
      timer = null;
      var names = Object.keys(pending);
      pending = {};
      names.forEach(function (n) {
        if (n === '*') { Object.keys(layers).forEach(function (k) { load(layers[k]); }); }
        else if (layers[n]) { load(layers[n]); }
      });
      loadFigures();
    }, 300);
  }
  // A replay or a poll also sends the few events just before the client's place
  // (one may have committed late, cockpit/live.py LOOKBACK_IDS): each seq counts once.
  var seen = {}, seenOrder = [];
  function heard(event) {
    if (event.kind === 'reset') { refresh('*'); return; }
    if (event.seq) {
      if (seen[event.seq]) { return; }
      seen[event.seq] = true;
      seenOrder.push(event.seq);
      if (seenOrder.length > 2000) { delete seen[seenOrder.shift()]; }
    }
    document.body.dataset.lastEvent = String(event.seq || '');
    (KIND_LAYERS[event.kind] || ['*']).forEach(refresh);
  }
  function setLive(state, text) { liveState.dataset.live = state; liveState.textContent = text; }

  function listen() {
    if (config.transport === 'sse' && window.EventSource) {
      var source = new EventSource(config.stream);
      source.onopen = function () { setLive('live', gettext('live')); document.body.dataset.live = 'sse'; };
      source.onerror = function () {
        setLive('lost', gettext('reconnecting…'));
        // A non-200 answer (503 when the server is busy) closes an EventSource for good:
        // open a new one after a pause with some jitter, so many maps do not return at once.
        if (source.readyState === EventSource.CLOSED) { setTimeout(listen, 3000 + Math.random() * 3000); }
      };
      source.onmessage = function (m) { try { heard(JSON.parse(m.data)); } catch (e) { /* a heartbeat */ } };
      return;
    }
    var last = null;
    function poll() {
      var url = config.events + (last === null ? '' : '?after=' + last);
      getJSON(url).then(function (body) {
        if (last !== null) { body.events.forEach(heard); }
        last = body.last;
        setLive('live', gettext('live'));
        document.body.dataset.live = 'poll';
      }).catch(function () { setLive('lost', gettext('reconnecting…')); })
        .then(function () { setTimeout(poll, (config.pollSeconds || 2) * 1000); });
    }
    poll();
  }

  // ?at=lon,lat[&label=…] (links from the gap list, incidents, flood runs): centre on
  // that point with a marker, after the area's own view. Bad values are ignored.
  function focusPoint() {
    var params = new URLSearchParams(window.location.search);
    var at = (params.get('at') || '').split(',').map(Number);
    if (at.length !== 2 || !isFinite(at[0]) || !isFinite(at[1]) ||
        Math.abs(at[0]) > 180 || Math.abs(at[1]) > 90) { return; }
    var here = latLng(at[0], at[1]);
    map.setView(here, 17);
    var marker = L.circleMarker(here, { radius: 11, className: 'focus-marker', color: '#b3261e',
      weight: 3, fill: false }).addTo(map);
    var label = (params.get('label') || '').slice(0, 120);
    if (label) { marker.bindTooltip(label, { permanent: true, direction: 'top' }); }
    document.body.dataset.focus = at.join(',');
  }

  var start = config.start ? showArea(config.start).catch(function (err) { showError(err.message); }) : Promise.resolve();
  start = start.then(focusPoint).then(function () { fitted = true; loadViewportLayers(); });
  Promise.all([start, loadFigures()]).then(function () {
    document.body.dataset.cockpitReady = '1';
    listen();
  });
})();
