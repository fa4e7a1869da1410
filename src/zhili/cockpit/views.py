"""The one map (/cockpit/), its own layers, the side panel's figures, and the live stream."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db import OperationalError, connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.cockpit import live, selectors
from zhili.cockpit.apps import DISPATCH, VIEW_MAP
from zhili.cockpit.teams import MANAGE as MANAGE_INCIDENT
from zhili.core.errors import invalid
from zhili.core.plugins import registry
from zhili.geo.viewport import with_viewport


def _viewer(request):
    if request.user.scope(VIEW_MAP).empty:
        raise PermissionDenied
    return request.user


def layers_for(user) -> list[dict]:
    """Every app's map layer (core.plugins.MapLayer) the user holds the permission for."""
    return [{"name": layer.name, "label": str(layer.label), "url": reverse(layer.url_name),
             "viewport": layer.viewport}
            for layer in registry().map_layers if not user.scope(layer.permission).empty]


@login_required
def map_view(request):
    user = _viewer(request)
    home = user.home_area()
    config = {
        "geoApi": reverse("api-1.0.0:api-root") + "geo/",
        "start": home.code if home is not None else None,
        "lang": get_language() or settings.LANGUAGE_CODE,
        "layers": layers_for(user),
        "figures": reverse("cockpit:figures"),
        # Server-sent events under ASGI (uvicorn); WSGI (runserver, the test server)
        # cannot stream, so the page polls the same event log instead.
        "transport": "sse" if isinstance(request, ASGIRequest) else "poll",
        "stream": reverse("cockpit:stream"),
        "events": reverse("cockpit:events"),
        "pollSeconds": live.poll_seconds() * 2,
        "dispatch": (reverse("api-1.0.0:api-root") + "cockpit/cases/0/dispatch-nearest"
                     if not user.scope(DISPATCH).empty else None),
        # The nearest free rescue team from a warning or an incident (cockpit/teams.py).
        "dispatchTeam": (reverse("api-1.0.0:api-root") + "cockpit/{kind}/{number}/dispatch-team"
                         if not user.scope(MANAGE_INCIDENT).empty else None),
    }
    return render(request, "cockpit/map.html", {"config": config, "home": home})


@login_required
@with_viewport
def layer_cases(request, viewport):
    """Open cases of the viewer's area, by status and overdue (GeoJSON); with `bbox` and
    `zoom`, those in the box, clustered below zoom 14 when there are many."""
    if request.user.scope(selectors.VIEW_CASE).empty:
        raise PermissionDenied
    return JsonResponse(selectors.cases_geojson(actor=request.user, viewport=viewport))


@login_required
def layer_workers(request):
    """Grid workers' last known positions (GeoJSON); names shown, so the read is audited."""
    user = _viewer(request)
    body = selectors.workers_geojson(actor=user)
    audit_record(actor=user, action="worker.positions_read", object_type="cockpit.workerposition",
                 detail={"workers": len(body["features"])})
    return JsonResponse(body)


@login_required
def figures(request):
    return JsonResponse(selectors.figures(actor=_viewer(request)))


@login_required
def events(request):
    """The polling transport: events after `after` in the viewer's area."""
    user = _viewer(request)
    raw = request.GET.get("after", "")
    if not raw:
        return JsonResponse({"events": [], "last": live.last_seq()})
    if not raw.isdigit() or len(raw) > 18:
        problem = invalid("after", _("a non-negative event id")).as_problem(instance=request.path)
        return JsonResponse(problem, status=422, content_type="application/problem+json")
    found = selectors.events_for(actor=user, after=int(raw))
    return JsonResponse({"events": found, "last": max([int(raw)] + [e["seq"] for e in found])})


# -- server-sent events -----------------------------------------------------------


def _last_event_id(request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def _close_db() -> None:
    """Give the thread's connection back (resolved in the worker thread, where the
    request's connection lives). Never inside a transaction: with the pool, a close
    there hands the connection back under the transaction (a test's, say)."""
    if not connection.in_atomic_block:
        connection.close()


def _prepare(user, last: int | None):
    """The stream's only database work, done before it starts: the viewer's scope and
    the replay after `last`. The thread's connection is closed here, because a client
    that disconnects cancels the response without Django's end-of-request cleanup, and
    a connection left open in that thread would be held (from the pool) for good."""
    try:
        scope = user.scope(VIEW_MAP)
        if scope.empty or last is None:
            return scope, [], False
        oldest = live.oldest_seq()
        return scope, live.events_after(last), oldest is not None and last < oldest - 1
    finally:
        _close_db()


async def _stream(hub, sub, scope, backlog: list[dict], reset: bool):
    """The stream's body: the replay, then whatever the hub queues for it.

    The hub has already checked the area and encoded the bytes. Served through
    zhili.asgi, the stream is then attached: the hub writes it through the server's
    ASGI send. Otherwise a live event costs this generator one queue get and one
    write; what queued up meanwhile (a burst of events) goes out as one chunk.
    """
    try:
        yield b"retry: 3000\n\n"
        if reset:  # pruned past the client's place: it reloads its layers instead
            yield f"data: {json.dumps({'kind': 'reset'})}\n\n".encode()
        for event in backlog:
            if scope.covers(event["path"]):
                yield live.encode(event)
        # What the replay sent is not sent again live; an event that committed late,
        # below the replay's last id and not in it, still is.
        replayed = frozenset(event["seq"] for event in backlog)
        send = live.RAW_SEND.get()
        if send is not None:
            # Served through zhili.asgi: the hub writes this stream itself from here
            # on, one loop over the streams per event (no queue, no task wake-up, no
            # generator step per stream); this generator only waits for the end.
            await sub.attach(send, replayed)
            return
        queue, timing = sub.queue, live.timing
        while True:
            item = await queue.get()
            parts, seqs, ended = [], [], False
            while True:
                if item is live.OVERFLOW:
                    ended = True
                    break
                if item is live.HEARTBEAT:
                    parts.append(item)
                elif item[0] not in replayed:
                    parts.append(item[2])
                    seqs.append(item[0])
                if queue.empty():
                    break
                item = queue.get_nowait()
            if parts:
                yield parts[0] if len(parts) == 1 else b"".join(parts)
                if timing.enabled:
                    for seq in seqs:
                        timing.written(seq)
            if ended:
                return
    finally:
        hub.unsubscribe(sub)


def _busy() -> HttpResponse:
    """The stream's start found no database connection in time: 503, not a 500; the page
    opens the stream again after `Retry-After` (an EventSource gives up on a non-200)."""
    response = HttpResponse("Busy: open the stream again in a few seconds.", status=503,
                            content_type="text/plain")
    response["Retry-After"] = "3"
    return response


async def stream(request):
    """/cockpit/stream: the viewer's area's events as server-sent events (ASGI only)."""
    try:
        user = await request.auser()
    except OperationalError:  # no pooled connection in time (a burst of reconnects)
        await sync_to_async(_close_db)()
        return _busy()
    if not user.is_authenticated:
        await sync_to_async(_close_db)()
        return HttpResponse("Log in first.", status=401, content_type="text/plain")
    last = _last_event_id(request)
    hub = live.hub()
    # Subscribed before the replay is read, so nothing falls between the two.
    sub = hub.subscribe()
    try:
        scope, backlog, reset = await sync_to_async(_prepare)(user, last)
    except OperationalError:
        hub.unsubscribe(sub)
        return _busy()
    except BaseException:
        hub.unsubscribe(sub)
        raise
    if scope.empty:
        hub.unsubscribe(sub)
        return HttpResponse("You may not see the map.", status=403, content_type="text/plain")
    sub.limit_to(scope)
    response = StreamingHttpResponse(_stream(hub, sub, scope, backlog, reset),
                                     content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
