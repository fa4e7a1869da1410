"""The SWMM pipeline on a small generated network: the engine in its own process,
flooded nodes only under heavy rain, the engine's ERROR lines, runs that die."""

import signal

import pytest

from zhili.core.errors import ValidationFailed
from zhili.flood import services
from zhili.flood.models import FloodRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def run(actor, model, csv, **kwargs):
    queued = services.flood_run_request(actor=actor, model=model, rainfall_csv=csv, **kwargs)
    return services.flood_run_execute(run_id=queued.pk, **kwargs.pop("execute", {}))


def test_the_model_is_attached_with_its_nodes_located(flood_model, street):
    assert flood_model.junctions == 6
    nodes = list(flood_model.nodes.all())
    assert len(nodes) == 7  # six junctions and the outfall
    assert all(n.lon and n.lat for n in nodes)
    assert any(n.grid_id for n in nodes)
    assert all(n.grid.path.startswith(street.path[:7]) for n in nodes if n.grid_id)


def test_heavy_rain_floods_nodes_and_light_rain_none(flood_model, district_operator, heavy,
                                                     light):
    dry = run(district_operator, flood_model, light)
    assert dry.status == FloodRun.Status.DONE, dry.error
    assert dry.flooded.count() == 0
    assert dry.results["flood_volume_m3"] == 0
    wet = run(district_operator, flood_model, heavy)
    assert wet.status == FloodRun.Status.DONE, wet.error
    flooded = list(wet.flooded.all())
    assert flooded
    assert all(f.volume_m3 > 0 and f.hours > 0 and f.peak_depth_m > 0 for f in flooded)
    assert wet.progress == 1.0 and wet.duration_s < 30
    assert "Flood Loss" in wet.report or "Flooding Loss" in wet.report  # the engine's .rpt kept
    assert "[RAINGAGES]" in wet.inp and "90" in wet.inp  # the input it was given


def test_a_corrupt_inp_is_refused_with_the_engines_error_line(small_inp, street, settings):
    from zhili.flood.services import drainage_model_add

    settings.LANGUAGE_CODE = "en"
    bad = small_inp.replace("\nJ2 ", "\nJ2 abc ", 1)
    with pytest.raises(ValidationFailed) as caught:
        drainage_model_add(actor=None, area=street, name="bad", inp_text=bad)
    lines = [e.message for e in caught.value.errors]
    assert any(line.startswith("ERROR 211") and "at line" in line for line in lines), lines


@pytest.mark.parametrize("text,needle", [
    ("", "empty"),
    ("[TITLE]\nnothing here\n", "JUNCTIONS"),
])
def test_an_inp_without_what_a_run_needs_is_refused(street, text, needle, settings):
    from zhili.flood.services import drainage_model_add

    settings.LANGUAGE_CODE = "en"
    with pytest.raises(ValidationFailed) as caught:
        drainage_model_add(actor=None, area=street, name="x", inp_text=text)
    assert needle in " ".join(e.message for e in caught.value.errors)


def test_projected_coordinates_are_refused(small_inp, street, settings):
    from zhili.flood.services import drainage_model_add

    settings.LANGUAGE_CODE = "en"
    head, _, tail = small_inp.partition("[COORDINATES]\n")
    tail = tail.replace("106.", "3106", 1)
    with pytest.raises(ValidationFailed) as caught:
        drainage_model_add(actor=None, area=street, name="x", inp_text=head + "[COORDINATES]\n" + tail)
    assert "WGS84" in caught.value.errors[0].message


def test_a_run_killed_midway_is_failed_not_left_running(flood_model, district_operator, heavy):
    queued = services.flood_run_request(actor=district_operator, model=flood_model,
                                        rainfall_csv=heavy)

    def kill(_progress, proc):
        proc.send_signal(signal.SIGKILL)

    done = services.flood_run_execute(run_id=queued.pk, on_poll=kill)
    assert done.status == FloodRun.Status.FAILED
    assert "killed" in done.error and "9" in done.error
    assert done.flooded.count() == 0 and done.warnings == []


def test_a_run_over_its_timeout_is_killed_and_failed(flood_model, district_operator, heavy,
                                                      settings):
    settings.ZHILI_FLOOD_RUN_TIMEOUT = 0.01
    done = run(district_operator, flood_model, heavy)
    assert done.status == FloodRun.Status.FAILED
    assert "timed out" in done.error


def test_a_run_whose_worker_died_is_failed_by_the_sweep(flood_model, district_operator, heavy):
    from datetime import timedelta

    from django.utils import timezone

    queued = services.flood_run_request(actor=district_operator, model=flood_model,
                                        rainfall_csv=heavy)
    # The worker claimed it and then died: the row says running, the heartbeat stopped.
    gone = timezone.now() - timedelta(minutes=5)
    FloodRun.objects.filter(pk=queued.pk).update(status="running", started_at=gone,
                                                 heartbeat_at=gone)
    assert services.flood_runs_stale_fail() == 1
    queued.refresh_from_db()
    assert queued.status == FloodRun.Status.FAILED and "heartbeat" in queued.error
    # The task, rerun after the worker's lease, leaves it as it is.
    assert services.flood_run_execute(run_id=queued.pk) is None


def test_the_run_goes_through_the_long_lane(flood_model, district_operator, heavy):
    from zhili.core.tasks_worker import drain

    queued = services.flood_run_request(actor=district_operator, model=flood_model,
                                        rainfall_csv=heavy)
    assert drain(lanes=["long"]) >= 1
    queued.refresh_from_db()
    assert queued.status == FloodRun.Status.DONE


def test_a_forecast_warning_is_raised_once_and_updated_on_a_rerun(
        flood_model, underpass, district_operator, heavy, light):
    from zhili.flood.tests.conftest import series_csv
    from zhili.warning.models import Warning

    first = run(district_operator, flood_model, heavy)
    assert first.status == "done", first.error
    warnings = Warning.objects.filter(source="forecast", risk_point=underpass)
    assert warnings.count() == 1
    warning = warnings.get()
    assert warning.condition.startswith(f"flood:{flood_model.pk}:")
    raised = warning.events.get(kind="raised")
    assert raised.data["run"] == first.pk and raised.data["lead_minutes"] >= 50
    assert raised.data["expected_at"]
    assert first.warnings == [warning.number]

    # A heavier forecast: the same warning moves up (or stays), no second one.
    second = run(district_operator, flood_model, series_csv(160, hours=3))
    assert Warning.objects.filter(source="forecast", risk_point=underpass).count() == 1
    warning.refresh_from_db()
    assert warning.status in Warning.OPEN and warning.level >= raised.level
    assert second.warnings == [warning.number]

    # Light rain: the forecast no longer floods there; the warning closes.
    run(district_operator, flood_model, light)
    warning.refresh_from_db()
    assert warning.status == Warning.Status.CLOSED
    assert Warning.objects.filter(source="forecast", risk_point=underpass).count() == 1


def test_levels_follow_the_models_thresholds():
    thresholds = {"volume_m3": [10, 100, 1000, 5000], "hours": [None, None, 2, 4]}
    assert services.level_for(thresholds, 5, 0.1, 1) == 0
    assert services.level_for(thresholds, 150, 0.5, 1) == 2
    assert services.level_for(thresholds, 150, 2.5, 1) == 3
    assert services.level_for(thresholds, 6000, 0.5, 1) == 4
