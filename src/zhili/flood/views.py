"""Flood pages: models per area, a model with its run form, a run with progress,
results map and chart."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhili.core.errors import ApplicationError, NotFound
from zhili.core.forms import form_errors
from zhili.flood import selectors, services
from zhili.flood.charts import run_chart

FORM_FIELDS = ("source", "rainfall", "sensor", "hours", "scenario_mm", "scenario_hours")


@login_required
def model_list(request):
    actor = selectors.viewer(request.user)
    models = list(selectors.model_list(actor=actor))
    runs = list(selectors.run_list(actor=actor, limit=20))
    return render(request, "flood/model_list.html", {"models": models, "runs": runs})


def _model_page(request, model, *, errors=None, values=None, status=200):
    actor = request.user
    return render(request, "flood/model_detail.html", {
        "model": model, "runs": selectors.run_list(actor=actor, model=model),
        "may_run": selectors.may_run(actor, model),
        "gauges": selectors.gauges(actor=actor, area_path=model.area_path),
        "errors": errors or {}, "values": values or {"source": "upload", "hours": "6"},
        "thresholds": model.level_thresholds(),
    }, status=status)


def _model(request, model_id):
    actor = selectors.viewer(request.user)
    try:
        return selectors.model_get(actor=actor, model_id=model_id)
    except NotFound:
        raise Http404 from None


@login_required
def model_detail(request, model_id: int):
    return _model_page(request, _model(request, model_id))


@login_required
@require_POST
def run_create(request, model_id: int):
    from zhili.core.errors import FieldError, ValidationFailed

    model = _model(request, model_id)
    values = {k: request.POST.get(k, "") for k in FORM_FIELDS}
    if not selectors.may_run(request.user, model):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    try:
        numbers = {}
        bad = []
        for name in ("hours", "scenario_mm", "scenario_hours"):
            raw = values[name].strip()
            try:
                numbers[name] = float(raw) if raw else None
            except ValueError:
                bad.append(FieldError(name, _("not a number")))
        if bad:
            raise ValidationFailed(bad)
        if values["source"] == "gauge":
            run = services.flood_run_request(
                actor=request.user, model=model, sensor_code=values["sensor"].strip(),
                hours=numbers["hours"] or 6, scenario_mm=numbers["scenario_mm"],
                scenario_hours=numbers["scenario_hours"])
        else:
            text = values["rainfall"]
            upload = request.FILES.get("rainfall_file")
            if upload is not None:
                try:
                    text = upload.read(2_000_000).decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise ValidationFailed([FieldError("rainfall", _("the file is not UTF-8 text"))]) \
                        from None
            run = services.flood_run_request(
                actor=request.user, model=model, rainfall_csv=text,
                scenario_mm=numbers["scenario_mm"], scenario_hours=numbers["scenario_hours"])
    except ApplicationError as exc:
        errors = form_errors(exc, FORM_FIELDS, aliases={"scenario": "scenario_mm"})
        return _model_page(request, model, errors=errors, values=values, status=422)
    return redirect("flood:run", run_id=run.pk)


def _run(request, run_id):
    actor = selectors.viewer(request.user)
    try:
        return selectors.run_get(actor=actor, run_id=run_id)
    except NotFound:
        raise Http404 from None


@login_required
def run_detail(request, run_id: int):
    run = _run(request, run_id)
    flooded = list(selectors.flooded_nodes(run=run)) if run.status == "done" else []
    return render(request, "flood/run_detail.html", {
        "run": run, "model": run.model, "flooded": flooded, "chart": run_chart(run),
        "map_config": {"nodes": reverse("flood:run_nodes", args=[run.pk])},
        "one_map": reverse("cockpit:map"),
    })


@login_required
def run_status(request, run_id: int):
    """The progress fragment htmx polls; once the run has finished the page reloads."""
    run = _run(request, run_id)
    response = render(request, "flood/partials/run_status.html", {"run": run})
    if run.finished and request.headers.get("HX-Request"):
        response = HttpResponse(status=200)
        response["HX-Refresh"] = "true"
    return response


@login_required
def run_nodes(request, run_id: int):
    return JsonResponse(selectors.run_geojson(run=_run(request, run_id)))


@login_required
def layer_flooded(request):
    """The map layer: flooded nodes of each model's latest run in the viewer's area."""
    return JsonResponse(selectors.flooded_layer(actor=request.user))
