"""Intake through the service: validation (nothing written on bad input), idempotency,
locating, GCJ-02, dispatch to the roster, duplicates, photos."""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from zhili.audit.models import AuditEntry
from zhili.core.errors import OutsideCity, ValidationFailed
from zhili.geo.coords import wgs84_to_gcj02
from zhili.governance import services
from zhili.governance.models import Case, CaseEvent, CasePhoto, Category, Status
from zhili.governance.photos import MAX_BYTES
from zhili.governance.services.intake import category_cache_clear
from zhili.governance.tests.conftest import jpeg_bytes, upload
from zhili.notifications.models import Delivery


def field_of(exc) -> str:
    return exc.value.errors[0].field


def counts():
    return Case.objects.count(), CaseEvent.objects.count(), CasePhoto.objects.count()


@pytest.mark.parametrize("change, field", [
    ({"category": ""}, "category"),
    ({"category": "no-such-thing"}, "category"),
    ({"description": "   "}, "description"),
    ({"description": "长" * 2001}, "description"),
    ({"lon": "east"}, "lon"),
    ({"lat": float("nan")}, "lat"),
    ({"lon": 500}, "lon"),
    ({"crs": "bd09"}, "crs"),
    ({"channel": "carrier-pigeon"}, "channel"),
    ({"contact_phone": "call me maybe"}, "contact_phone"),
    ({"contact_email": "not-an-address"}, "contact_email"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"attributes": {}}, "attributes.size"),
    ({"attributes": {"size": "enormous"}}, "attributes.size"),
    ({"photos": [upload() for _ in range(7)]}, "photos"),
    ({"photos": [upload("x.jpg", b"this is not an image at all")]}, "photos"),
    ({"photos": [upload("x.jpg", b"")]}, "photos"),
    ({"idempotency_key": "k" * 129}, "idempotency_key"),
])
def test_bad_input_names_the_field_and_writes_nothing(change, field, categories, grid, resident):
    before = counts()
    arguments = dict(actor=resident, category="road-damage", description="坑", lon=grid.centre_lon,
                     lat=grid.centre_lat, attributes={"size": "small"})
    arguments.update(change)
    with pytest.raises(ValidationFailed) as caught:
        services.case_report(**arguments)
    assert field_of(caught) == field
    assert counts() == before


def test_outside_the_city_is_404_and_writes_nothing(categories, resident):
    before = counts()
    with pytest.raises(OutsideCity):
        services.case_report(actor=resident, category="garbage", description="x", lon=116.39,
                             lat=39.9)  # Beijing
    assert counts() == before


def test_inactive_category_is_refused(categories, grid, resident):
    from zhili.governance.models import Category

    Category.objects.filter(code="garbage").update(active=False)
    with pytest.raises(ValidationFailed) as caught:
        services.case_report(actor=resident, category="garbage", description="x",
                             lon=grid.centre_lon, lat=grid.centre_lat)
    assert field_of(caught) == "category"


def test_gcj02_point_is_stored_as_wgs84(report, grid):
    glon, glat = wgs84_to_gcj02(grid.centre_lon, grid.centre_lat)
    case = report(lon=glon, lat=glat, crs="gcj02")
    assert case.grid == grid
    assert case.lon == pytest.approx(grid.centre_lon, abs=1e-7)
    assert case.lat == pytest.approx(grid.centre_lat, abs=1e-7)


def test_idempotency_key_returns_the_first_case(categories, grid, resident, now):
    kwargs = dict(actor=resident, category="garbage", description="垃圾没人清", lon=grid.centre_lon,
                  lat=grid.centre_lat, idempotency_key="phone-42", now=now)
    first, created = services.case_report(**kwargs)
    again, created_again = services.case_report(**kwargs)
    assert created and not created_again and again.pk == first.pk
    assert Case.objects.filter(intake_key="phone-42").count() == 1
    # The same key from another sender is another submission.
    other, created_other = services.case_report(**{**kwargs, "idempotency_scope": "open311:9",
                                                   "now": now + timedelta(days=9)})
    assert created_other and other.pk != first.pk


def test_the_written_out_duplicate_search_finds_what_the_orm_finds(report, grid, now):
    from zhili.governance.location import degree_box
    from zhili.governance.models import OPEN_STATUSES
    from zhili.governance.services.intake import nearby_candidates

    closed = report(category="garbage", at=now - timedelta(hours=2))
    Case.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    first = report(category="garbage", at=now - timedelta(hours=1))
    second = report(category="garbage", at=now)
    assert second.duplicate_of_id == first.pk  # linked: not a candidate
    # The original the intake built from its row is the real one, field by field.
    assert second.duplicate_of.tracking_no == first.tracking_no
    assert second.duplicate_of.area_path == first.area_path
    linked = CaseEvent.objects.get(case=second, kind="duplicate_linked")
    assert linked.data == {"original": first.tracking_no, "original_id": first.pk}
    report(category="noise", at=now)  # another category
    category = Category.objects.get(code="garbage")
    seen = {}
    for moment in (now, now + timedelta(hours=category.duplicate_window_hours + 1)):
        box = degree_box(grid.centre_lon, grid.centre_lat, category.duplicate_radius_m)
        orm = set(Case.objects.filter(
            category=category, status__in=OPEN_STATUSES, duplicate_of__isnull=True,
            lon__gte=box[0], lat__gte=box[1], lon__lte=box[2], lat__lte=box[3],
            created_at__gte=moment - timedelta(hours=category.duplicate_window_hours),
            created_at__lte=moment).values_list("pk", flat=True))
        found = {row[0] for row in nearby_candidates(category, grid.centre_lon,
                                                     grid.centre_lat, moment)}
        assert found == orm
        seen[moment] = found
    assert seen[now] == {first.pk}  # not its duplicate, the other category or the closed one
    assert not seen[max(seen)]  # after the window


def test_the_written_out_roster_reads_what_the_orm_reads(grid, grid_worker):
    from zhili.accounts.models import User
    from zhili.governance.models import DutyShift
    from zhili.governance.services.intake import roster_shifts

    leader = User.objects.get(username="leader1")
    services.duty_shift_set(actor=None, grid=grid, user=leader, weekdays="5,6",
                            start=time(22, 0), end=time(6, 0))
    gone = User.objects.create(username="gone-worker", is_active=False)
    DutyShift.objects.create(grid=grid, user=gone, start_time=time(0, 0), end_time=time(1, 0))
    orm = [(set(s.weekdays.split(",")), s.start_time, s.end_time, s.user_id)
           for s in DutyShift.objects.filter(grid=grid, user__is_active=True).order_by("id")]
    found = [(days, start, end, user.pk) for days, start, end, user in roster_shifts(grid)]
    assert found == orm and len(found) >= 2
    assert all(user.display_name == User.objects.get(pk=user.pk).display_name
               for *_, user in roster_shifts(grid))


def test_a_category_saved_in_admin_reaches_intake_at_once(categories, grid, resident):
    kwargs = dict(actor=resident, category="garbage", description="垃圾", lon=grid.centre_lon,
                  lat=grid.centre_lat)
    services.case_report(**kwargs)  # the category is now kept in this process
    category = Category.objects.get(code="garbage")
    category.active = False
    category.save()  # post_save clears the kept copy
    with pytest.raises(ValidationFailed):
        services.case_report(**kwargs)


def test_a_retry_is_refused_by_the_key_and_rolled_back(categories, grid, resident, now):
    """Intake does not look the key up first: the key's unique index refuses the
    retry's case (as it would a concurrent twin), which rolls back whole."""
    kwargs = dict(actor=resident, category="garbage", description="垃圾", lon=grid.centre_lon,
                  lat=grid.centre_lat, idempotency_key="race-1", now=now)
    first, _ = services.case_report(**kwargs)
    before = (Case.objects.count(), AuditEntry.objects.count(), Delivery.objects.count())
    again, created = services.case_report(**{**kwargs, "now": now + timedelta(days=20)})
    assert not created and again.pk == first.pk
    assert (Case.objects.count(), AuditEntry.objects.count(),
            Delivery.objects.count()) == before


def test_a_retry_refused_for_another_reason_still_gets_the_first_case(categories, grid,
                                                                      resident, now):
    kwargs = dict(actor=resident, category="garbage", description="垃圾", lon=grid.centre_lon,
                  lat=grid.centre_lat, idempotency_key="late-retry", now=now)
    first, _ = services.case_report(**kwargs)
    Category.objects.filter(code="garbage").update(active=False)  # closed since
    category_cache_clear()  # as the admin's save does (an UPDATE sends no signal)
    again, created = services.case_report(**kwargs)
    assert not created and again.pk == first.pk
    with pytest.raises(ValidationFailed):  # without the key it is refused
        services.case_report(**{**kwargs, "idempotency_key": None})


def test_dispatch_goes_to_the_worker_on_duty_else_the_leader(report, grid, grid_worker):
    from zhili.accounts.models import User

    leader = User.objects.get(username="leader1")
    from zhili.governance.models import DutyShift

    DutyShift.objects.filter(grid=grid).delete()
    services.duty_shift_set(actor=None, grid=grid, user=grid_worker, weekdays="0,1,2,3,4,5,6",
                            start=time(8, 0), end=time(20, 0))
    from django.utils import timezone

    day = timezone.localtime(timezone.now()).replace(hour=10, minute=0) + timedelta(days=500)
    night = day.replace(hour=23)
    assert report(category="garbage", at=day).assignee == grid_worker
    assert report(category="noise", at=night).assignee == leader


def test_probable_duplicate_follows_the_original(report, grid, resident, grid_worker,
                                                 street_operator, now):
    original = report(category="water-leak", at=now)
    near = report(category="water-leak", at=now + timedelta(hours=2),
                  lon=grid.centre_lon + 0.0002, lat=grid.centre_lat)  # ~20 m away
    assert near.duplicate_of == original and near.assignee is None and near.due_at is None
    assert CaseEvent.objects.filter(case=near, kind="duplicate_linked").exists()
    # Another category, or beyond the window, is not a duplicate.
    assert report(category="garbage", at=now + timedelta(hours=3)).duplicate_of is None
    assert report(category="water-leak", at=now + timedelta(hours=49)).duplicate_of is None
    # The reporter can follow the original.
    from zhili.governance.selectors import case_get_for

    assert case_get_for(actor=resident, case_id=original.pk) == original
    # Staff split one: it is dispatched on its own.
    other = report(category="water-leak", at=now + timedelta(hours=4))
    assert other.duplicate_of == original
    other = services.case_duplicate_split(actor=street_operator, case=other)
    assert other.duplicate_of is None and other.assignee is not None and other.due_at
    # Confirm another: it closes with its original.
    services.case_duplicate_confirm(actor=street_operator, case=near)
    case = services.case_accept(actor=grid_worker, case=original, version=original.version)
    case = services.case_resolve(actor=grid_worker, case=case, version=case.version, note="修好")
    services.case_close(actor=street_operator, case=case, version=case.version, outcome="fixed")
    near.refresh_from_db()
    assert (near.status, near.outcome) == (Status.CLOSED, "fixed")


def test_photos_are_reencoded_and_stripped_of_exif(report, media_root):
    raw = jpeg_bytes((800, 600), exif_gps=True)
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # GPS present going in
    png = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 255, 128)).save(png, "PNG")
    case = report(photos=[upload("gps.jpg", raw), upload("a.png", png.getvalue(), "image/png")])
    photos = list(case.photos.order_by("id"))
    assert len(photos) == 2
    for photo in photos:
        with photo.image.open("rb") as handle:
            data = handle.read()
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG"
        assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
        import hashlib

        assert hashlib.sha256(data).hexdigest() == photo.sha256 and photo.size == len(data)
        assert photo.event.kind == "reported"
    assert (photos[0].width, photos[0].height) == (800, 600)


def test_oversized_photo_is_refused_before_decoding(categories, grid, resident):
    big = upload("big.jpg", b"\xff\xd8" + b"0" * (MAX_BYTES + 1))
    with pytest.raises(ValidationFailed) as caught:
        services.case_report(actor=resident, category="garbage", description="x",
                             lon=grid.centre_lon, lat=grid.centre_lat, photos=[big])
    assert field_of(caught) == "photos" and "10 MB" in caught.value.errors[0].message


def test_decompression_bomb_is_refused(categories, grid, resident):
    bomb = io.BytesIO()
    Image.new("L", (10000, 10000), 0).save(bomb, "PNG")  # 100 Mpx, a few hundred KB
    with pytest.raises(ValidationFailed):
        services.case_report(actor=resident, category="garbage", description="x",
                             lon=grid.centre_lon, lat=grid.centre_lat,
                             photos=[upload("b.png", bomb.getvalue(), "image/png")])


def test_patrol_report_must_be_on_the_workers_grid(categories, grid, other_grid, grid_worker):
    case, _ = services.case_report(actor=grid_worker, channel="patrol", category="garbage",
                                   description="巡查发现", lon=grid.centre_lon, lat=grid.centre_lat)
    assert case.channel == "patrol" and case.reporter == grid_worker
    with pytest.raises(ValidationFailed) as caught:
        services.case_report(actor=grid_worker, channel="patrol", category="garbage",
                             description="巡查发现", lon=other_grid.centre_lon,
                             lat=other_grid.centre_lat)
    assert field_of(caught) == "lon"


def test_a_programmatic_intake_has_no_reporter(categories, grid):
    case, created = services.case_report(actor=None, channel="system", category="waterlogging",
                                         description="积水监测点超阈值", lon=grid.centre_lon,
                                         lat=grid.centre_lat, idempotency_key="warning-77",
                                         idempotency_scope="warning:77")
    assert created and case.reporter is None and case.channel == "system"


def test_intake_query_count_is_bounded(report):
    report()  # warm the locate index
    with CaptureQueriesContext(connection) as queries:
        report(category="garbage")
    # category (read once a minute per process), savepoint, duplicates, duty
    # roster, grid staff (no shift covers the hour), case, timeline,
    # notification (its message and delivery: one statement on PostgreSQL, two
    # on SQLite), audit head, audit entry, release. No read of the key or
    # the grid, no task row: see intake.py and notifications/tasks.py.
    assert len(queries) <= (11 if connection.vendor == "postgresql" else 12)
