"""Open311 GeoReport v2 against the spec (wiki.open311.org/GeoReport_v2), in XML and JSON.

Every method in both formats, the content types, the W3C datetimes, the error
array with the spec's HTTP statuses, the defaults of GET requests (90 days,
1,000 results), and that public reads carry no personal data.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from defusedxml import ElementTree
from django.utils import timezone

from zhili.governance import services
from zhili.governance.models import Case
from zhili.governance.open311 import selectors as o311
from zhili.governance.open311.keys import open311_key_create, open311_key_revoke

BASE = "/open311/v2"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
FORMATS = ["xml", "json"]


@pytest.fixture(autouse=True)
def english(client):
    """Error descriptions and status notes follow Accept-Language; the words below are English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def key(db):
    return open311_key_create(actor=None, name="city app")


def parse(response, fmt):
    """The body as Python: XML through defusedxml (it must be well-formed), JSON as is."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)


def errors_of(response, fmt) -> list[tuple[int, str]]:
    body = parse(response, fmt)
    if fmt == "json":
        return [(e["code"], e["description"]) for e in body]
    assert body.tag == "errors"
    return [(int(e.findtext("code")), e.findtext("description")) for e in body.findall("error")]


def assert_error(response, fmt, status, *words):
    assert response.status_code == status, response.content[:400]
    found = errors_of(response, fmt)
    assert found and all(code == status for code, _ in found)
    text = " ".join(d for _, d in found)
    for word in words:
        assert word in text, text


def rows(response, fmt, item="request") -> list[dict]:
    """A list response as dicts of strings (XML) or values (JSON)."""
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list)
        return body
    return [{child.tag: child.text for child in element} for element in body.findall(item)]


def post(client, fmt, data, **headers):
    return client.post(f"{BASE}/requests.{fmt}", data, headers=headers)


def spot(grid, k: int) -> tuple[float, float]:
    """The k-th point of a ~100 m lattice inside the grid (0: its centre): far enough apart
    that no two are probable duplicates, all on the same grid."""
    import shapely

    shape = grid.shape
    x0, y0, x1, y1 = shape.bounds
    points = [(grid.centre_lon, grid.centre_lat)]
    steps_x, steps_y = int((x1 - x0) / 0.001), int((y1 - y0) / 0.0009)
    for i in range(steps_x + 1):
        for j in range(steps_y + 1):
            x, y = x0 + 0.0003 + i * 0.001, y0 + 0.0003 + j * 0.0009
            if shapely.contains_xy(shape, x, y):
                points.append((x, y))
    return points[k]


def new_case(*, at=None, category="road-damage", actor=None, lon=None, lat=None, node=None,
             **kw):
    from zhili.geo.models import AreaNode

    node = node or AreaNode.objects.get(code="500103001001001")
    if category == "road-damage":
        kw.setdefault("attributes", {"size": "small"})
    case, _ = services.case_report(
        actor=actor, category=category, description=kw.pop("description", "路面塌了一个坑"),
        lon=lon if lon is not None else node.centre_lon,
        lat=lat if lat is not None else node.centre_lat, channel=kw.pop("channel", "api"),
        now=at or timezone.now(), **kw)
    return case


# -- discovery ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, db, fmt):
    response = client.get(f"{BASE}/discovery.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "discovery"
        for field in ("changeset", "contact", "key_service"):
            assert body.findtext(field)
        endpoint = body.find("endpoints/endpoint")
        assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint.findtext("url") == "http://testserver/open311/v2"
        assert endpoint.findtext("type") == "production"
        formats = [f.text for f in endpoint.findall("formats/format")]
    else:
        assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
        endpoint = body["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["changeset"] == body["changeset"]
        formats = endpoint["formats"]
    assert formats == ["text/xml", "application/json"]


def test_root_serves_discovery_and_unknown_paths_are_spec_404s(client, db):
    root = client.get(f"{BASE}/")
    assert parse(root, "xml").tag == "discovery"
    assert_error(client.get(f"{BASE}/nothing.json"), "json", 404)
    assert_error(client.get(f"{BASE}/services.html"), "xml", 404)


# -- services ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list(client, categories, fmt):
    response = client.get(f"{BASE}/services.{fmt}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    services_ = {s["service_code"]: s for s in rows(response, fmt, "service")}
    road = services_["road-damage"]
    assert set(road) == {"service_code", "service_name", "description", "metadata", "type",
                         "keywords", "group"}
    true = True if fmt == "json" else "true"
    false = False if fmt == "json" else "false"
    assert road["metadata"] == true  # it asks for the size
    assert services_["manhole-cover"]["metadata"] == false
    assert road["type"] == "realtime"
    assert road["group"] == "Livelihood services"
    assert "Road damage" in road["keywords"]
    # Disputes (with named parties) are not Open311 services.
    from zhili.governance.models import Category

    disputes = set(Category.objects.filter(is_dispute=True).values_list("code", flat=True))
    assert disputes and not disputes & set(services_)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(client, categories, fmt):
    response = client.get(f"{BASE}/services/road-damage.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "service_definition"
        assert body.findtext("service_code") == "road-damage"
        attribute = body.find("attributes/attribute")
        fields = [child.tag for child in attribute]
        values = [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")]
        assert attribute.findtext("variable") == "true"
        assert attribute.findtext("required") == "true"
        assert attribute.findtext("datatype") == "singlevaluelist"
        assert attribute.findtext("order") == "1"
    else:
        assert body["service_code"] == "road-damage"
        attribute = body["attributes"][0]
        fields = list(attribute)
        values = [(v["key"], v["name"]) for v in attribute["values"]]
        assert attribute["variable"] is True and attribute["required"] is True
        assert attribute["datatype"] == "singlevaluelist" and attribute["order"] == 1
    assert fields == ["variable", "code", "datatype", "required", "datatype_description", "order",
                      "description", "values"]
    assert ("small", "Smaller than a manhole cover") in values


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_unknown_code_is_404(client, categories, fmt):
    assert_error(client.get(f"{BASE}/services/no-such-thing.{fmt}"), fmt, 404, "service_code")


# -- POST requests -----------------------------------------------------------------------------

def good_form(key, grid, **extra):
    raw = key[1]
    form = {"api_key": raw, "service_code": "road-damage", "lat": str(grid.centre_lat),
            "long": str(grid.centre_lon), "description": "路面塌陷，直径约半米",
            "attribute[size]": "medium", "email": "zhang@example.cn", "first_name": "三",
            "last_name": "张", "phone": "13800000000", "address_string": "解放碑步行街口",
            "device_id": "phone-1", "account_id": "42"}
    form.update(extra)
    return form


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_request_creates_a_case(client, categories, grid, key, fmt):
    media = "https://img.example.cn/cases/pothole.jpg"
    response = post(client, fmt, good_form(key, grid, media_url=media))
    assert response.status_code == 200, response.content
    [created] = rows(response, fmt)
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None
    case = Case.objects.get(tracking_no=created["service_request_id"])
    assert case.channel == "open311" and case.reporter is None and not case.anonymous
    assert case.grid == grid and case.category.code == "road-damage"
    assert case.contact_name == "张三" and case.contact_phone == "13800000000"
    assert case.attributes == {"size": "medium"}
    assert case.address == "解放碑步行街口"
    assert case.contact_email == "zhang@example.cn" and case.media_url == media
    # The client's public media URL is the one thing about the media the public list shows.
    [listed] = rows(client.get(f"{BASE}/requests/{case.tracking_no}.{fmt}"), fmt)
    assert listed["media_url"] == media
    assert "zhang@example.cn" not in client.get(f"{BASE}/requests.{fmt}").content.decode()


def test_post_with_idempotency_key_returns_the_first_case_and_a_token(client, categories, grid,
                                                                       key):
    form = good_form(key, grid)
    first = rows(post(client, "json", form, **{"Idempotency-Key": "retry-7f3a"}), "json")[0]
    again = rows(post(client, "json", form, **{"Idempotency-Key": "retry-7f3a"}), "json")[0]
    assert first["service_request_id"] == again["service_request_id"]
    assert Case.objects.filter(tracking_no=first["service_request_id"]).count() == 1
    # A client that lost the response asks for its submission by the key (the spec's token).
    for fmt in FORMATS:
        response = client.get(f"{BASE}/tokens/retry-7f3a.{fmt}")
        assert response.status_code == 200
        [found] = rows(response, fmt)
        assert found == {"service_request_id": first["service_request_id"], "token": "retry-7f3a"}
        assert_error(client.get(f"{BASE}/tokens/never-sent.{fmt}"), fmt, 404, "token")


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_by_address_id_and_by_address_string(client, categories, grid, key, fmt):
    from zhili.geo.models import AreaNode

    by_id = good_form(key, grid, lat="", long="", address_string="")
    by_id["address_id"] = grid.code
    response = post(client, fmt, by_id)
    assert response.status_code == 200, response.content
    assert Case.objects.get(tracking_no=rows(response, fmt)[0]["service_request_id"]).grid == grid

    community = grid.parent
    street, district = community.parent, community.parent.parent
    text = f"{district.name}{street.name}{community.name}某小区门口"
    response = post(client, fmt, good_form(key, grid, lat="", long="", address_string=text))
    assert response.status_code == 200, response.content
    case = Case.objects.get(tracking_no=rows(response, fmt)[0]["service_request_id"])
    assert case.area_path.startswith(community.path)
    # Two areas of one level, neither backed by its ancestors: ambiguous, so the client must
    # send lat/long.
    other = AreaNode.objects.filter(level="community").exclude(parent=street).first()
    text = f"{community.name}{other.name}"
    assert_error(post(client, fmt, good_form(key, grid, lat="", long="", address_string=text)),
                 fmt, 400, "address_string")


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_errors_use_the_spec_statuses_and_write_nothing(client, categories, grid, key, fmt):
    before = Case.objects.count()
    raw = key[1]
    revoked_key, revoked_raw = open311_key_create(actor=None, name="old app")
    open311_key_revoke(actor=None, key=revoked_key)
    cases = [
        (good_form(key, grid, api_key=""), 403, ["api_key"]),
        (good_form(key, grid, api_key="o311_wrong"), 403, ["api_key"]),
        (good_form(key, grid, api_key=revoked_raw), 403, ["api_key"]),
        (good_form(key, grid, service_code=""), 400, ["service_code"]),
        (good_form(key, grid, service_code="no-such-thing"), 404, ["service_code"]),
        (good_form(key, grid, service_code="dispute-neighbour"), 404, ["service_code"]),
        (good_form(key, grid, jurisdiction_id="elsewhere.gov"), 404, ["jurisdiction_id"]),
        (good_form(key, grid, lat="", long="", address_string=""), 400, ["location"]),
        (good_form(key, grid, long=""), 400, ["lat and long"]),
        (good_form(key, grid, lat="91"), 400, ["lat"]),
        (good_form(key, grid, lat="north"), 400, ["lat"]),
        (good_form(key, grid, lat="0", long="0"), 400, ["outside"]),
        (good_form(key, grid, lat="", long="", address_string="Atlantis"), 400, ["address_string"]),
        (good_form(key, grid, lat="", long="", address_string="", address_id="123"), 400,
         ["address_id"]),
        (good_form(key, grid, **{"attribute[size]": ""}), 400, ["attribute[size]", "required"]),
        (good_form(key, grid, **{"attribute[size]": "huge"}), 400, ["attribute[size]"]),
        (good_form(key, grid, **{"attribute[colour]": "red"}), 400, ["attribute[colour]"]),
        (good_form(key, grid, description="x" * 4001), 400, ["description"]),
        (good_form(key, grid, description="x" * 2001), 400, ["description"]),
        (good_form(key, grid, phone="call me"), 400, ["phone"]),
        (good_form(key, grid, email="not-an-address"), 400, ["email"]),
        (good_form(key, grid, media_url="javascript:alert(1)"), 400, ["media_url"]),
    ]
    for form, status, words in cases:
        assert_error(post(client, fmt, form), fmt, status, *words)
    # Form-encoded only (multipart for media): a JSON body is refused.
    response = client.post(f"{BASE}/requests.{fmt}", json.dumps({"api_key": raw}),
                           content_type="application/json")
    assert_error(response, fmt, 400, "x-www-form-urlencoded")
    response = client.put(f"{BASE}/requests.{fmt}")
    assert_error(response, fmt, 405)
    assert response["Allow"] == "GET, HEAD, POST"
    assert Case.objects.count() == before


def test_post_with_the_right_jurisdiction_and_media_files(client, categories, grid, key,
                                                         settings):
    from zhili.governance.tests.conftest import upload

    settings.ZHILI_OPEN311_JURISDICTION = "cq.example.gov"
    form = good_form(key, grid, jurisdiction_id="cq.example.gov")
    form["media"] = [upload("a.jpg"), upload("b.jpg")]
    response = client.post(f"{BASE}/requests.xml", form)  # multipart
    assert response.status_code == 200, response.content
    case = Case.objects.get(tracking_no=rows(response, "xml")[0]["service_request_id"])
    assert case.photos.count() == 2
    assert_error(client.get(f"{BASE}/services.xml?jurisdiction_id=zhili"), "xml", 404,
                 "jurisdiction_id")


def test_an_unreadable_body_is_a_spec_error(client, categories, grid, key, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    form = good_form(key, grid)
    form.update({f"attribute[x{n}]": "1" for n in range(30)})
    assert_error(post(client, "json", form), "json", 400)


def test_post_is_csrf_exempt(categories, grid, key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, "json", good_form(key, grid)).status_code == 200


# -- GET requests ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_get_request_fields_and_status_mapping(client, categories, grid, resident, grid_worker,
                                               street_operator, fmt):
    reported = new_case(actor=resident, contact_name="王五", contact_phone="13900000000",
                        channel="resident")
    lon, lat = spot(grid, 3)
    case = new_case(actor=resident, lon=lon, lat=lat, category="manhole-cover",
                    channel="resident")
    case = services.case_accept(actor=grid_worker, case=case, version=case.version)
    case = services.case_dispatch_departments(actor=street_operator, case=case,
                                              version=case.version, lead="power")
    case = services.case_resolve(actor=grid_worker, case=case, version=case.version,
                                 note="已修复")
    response = client.get(f"{BASE}/requests.{fmt}",
                          {"service_request_id": f"{reported.tracking_no},{case.tracking_no}"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    found = {r["service_request_id"]: r for r in rows(response, fmt)}
    assert set(found) == {reported.tracking_no, case.tracking_no}
    first = found[reported.tracking_no]
    assert list(first) == ["service_request_id", "status", "status_notes", "service_name",
                           "service_code", "description", "agency_responsible", "service_notice",
                           "requested_datetime", "updated_datetime", "expected_datetime",
                           "address", "address_id", "zipcode", "lat", "long", "media_url"]
    assert first["status"] == "open" and found[case.tracking_no]["status"] == "closed"
    assert "verify" in found[case.tracking_no]["status_notes"]
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(first[field]), first[field]
    assert first["requested_datetime"].endswith("+08:00")  # the city's offset
    assert found[case.tracking_no]["expected_datetime"] in (None, "")  # closed: none expected
    assert float(first["lat"]) == pytest.approx(reported.lat)
    assert float(first["long"]) == pytest.approx(reported.lon)
    assert "governance centre" in first["agency_responsible"] or "街道" in \
        first["agency_responsible"]
    assert found[case.tracking_no]["agency_responsible"]  # the lead department: power
    # No personal data on a public endpoint.
    text = response.content.decode()
    for secret in ("王五", "13900000000", resident.username, grid_worker.username):
        assert secret not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request(client, categories, grid, fmt):
    case = new_case()
    response = client.get(f"{BASE}/requests/{case.tracking_no}.{fmt}")
    assert response.status_code == 200
    [found] = rows(response, fmt)
    assert found["service_request_id"] == case.tracking_no
    assert found["service_code"] == "road-damage" and found["status"] == "open"
    assert_error(client.get(f"{BASE}/requests/ZL000000NOPE.{fmt}"), fmt, 404,
                 "service_request_id")


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_defaults_to_the_last_90_days(client, categories, grid, fmt):
    now = timezone.now()
    recent = new_case(at=now - timedelta(days=89))
    old = new_case(at=now - timedelta(days=91))
    listed = {r["service_request_id"] for r in rows(client.get(f"{BASE}/requests.{fmt}"), fmt)}
    assert recent.tracking_no in listed and old.tracking_no not in listed
    # Asking by id overrides the window.
    by_id = rows(client.get(f"{BASE}/requests.{fmt}", {"service_request_id": old.tracking_no}),
                 fmt)
    assert [r["service_request_id"] for r in by_id] == [old.tracking_no]
    # Only a start: 90 days from it. Only an end: the 90 days before it.
    start = (now - timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = {r["service_request_id"] for r in
              rows(client.get(f"{BASE}/requests.{fmt}", {"start_date": start}), fmt)}
    assert old.tracking_no in listed and recent.tracking_no not in listed
    end = (now - timedelta(days=90)).astimezone(timezone.get_fixed_timezone(480)).isoformat()
    listed = {r["service_request_id"] for r in
              rows(client.get(f"{BASE}/requests.{fmt}", {"end_date": end}), fmt)}
    assert old.tracking_no in listed and recent.tracking_no not in listed


def test_get_requests_returns_at_most_the_cap_newest_first(client, categories, grid, monkeypatch):
    monkeypatch.setattr(o311, "MAX_RESULTS", 3)  # the spec's 1,000, made small
    now = timezone.now()
    made = [new_case(at=now - timedelta(minutes=n), lon=spot(grid, n)[0], lat=spot(grid, n)[1])
            for n in range(1, 5)]
    listed = [r["service_request_id"] for r in rows(client.get(f"{BASE}/requests.json"), "json")]
    assert len(listed) == 3
    assert listed[0] == made[0].tracking_no  # newest first
    assert o311.DEFAULT_SPAN == timedelta(days=90)


def test_the_default_cap_is_1000():
    assert o311.MAX_RESULTS == 1000


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters(client, categories, grid, grid_worker, fmt):
    now = timezone.now()
    road = new_case(at=now - timedelta(days=3))
    cover = new_case(at=now - timedelta(days=2), category="manhole-cover")
    cover = services.case_reject(actor=grid_worker, case=cover, version=cover.version,
                                 reason="重复上报")

    def listed(**params):
        return {r["service_request_id"]: r for r in
                rows(client.get(f"{BASE}/requests.{fmt}", params, HTTP_ACCEPT_LANGUAGE="en"),
                     fmt)}

    assert road.tracking_no in listed(service_code="road-damage")
    assert cover.tracking_no not in listed(service_code="road-damage")
    assert cover.tracking_no in listed(service_code="road-damage,manhole-cover")
    closed = listed(status="closed")
    assert cover.tracking_no in closed and road.tracking_no not in closed
    assert "重复上报" in closed[cover.tracking_no]["status_notes"]
    opened = listed(status="open")
    assert road.tracking_no in opened and cover.tracking_no not in opened
    both = listed(status="open,closed")
    assert {road.tracking_no, cover.tracking_no} <= set(both)
    # Dates are the city's local days (Asia/Shanghai), not UTC ones: between
    # 16:00 and 24:00 UTC the two differ.
    window = listed(start_date=timezone.localdate(now - timedelta(days=4)).isoformat(),
                    end_date=timezone.localdate(now - timedelta(days=3)).isoformat())
    assert road.tracking_no in window and cover.tracking_no not in window


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_bad_parameters_are_400(client, db, fmt):
    for params, words in [
        ({"status": "pending"}, ["status"]),
        ({"start_date": "yesterday"}, ["start_date"]),
        ({"start_date": "2026-02-30T00:00:00Z"}, ["start_date"]),
        ({"end_date": "2026-01-01T10:00"}, ["end_date"]),  # a time needs its zone
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, ["90 days"]),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
         ["earlier"]),
    ]:
        assert_error(client.get(f"{BASE}/requests.{fmt}", params), fmt, 400, *words)
    assert_error(client.get(f"{BASE}/requests.{fmt}", {"jurisdiction_id": "nowhere"}), fmt, 404)


def test_w3c_dates_accept_every_form_of_the_note():
    from zhili.governance.open311.params import BadParam, parse_w3

    assert parse_w3("d", "2026-03-05T08:15:30Z").isoformat() == "2026-03-05T08:15:30+00:00"
    assert parse_w3("d", "2026-03-05T08:15:30.45+08:00").microsecond == 450000
    assert parse_w3("d", "2026-03-05T08:15-05:00").utcoffset() == timedelta(hours=-5)
    assert parse_w3("d", "2026-03-05T08:15:30 08:00").utcoffset() == timedelta(hours=8)
    assert parse_w3("d", "2026").isoformat() == "2026-01-01T00:00:00+08:00"
    assert parse_w3("d", "2026-03", end_of_period=True).day == 31
    assert parse_w3("d", "2026-12-31", end_of_period=True).isoformat().startswith(
        "2026-12-31T23:59:59.999999")
    for bad in ("2026-13-01", "2026-03-05T25:00Z", "05/03/2026", "2026-03-05T08:15:30+24:00"):
        with pytest.raises(BadParam):
            parse_w3("d", bad)


def test_public_lists_skip_disputes(client, categories, grid):
    dispute = new_case(category="dispute-neighbour", description="楼上漏水引发邻里纠纷")
    listed = {r["service_request_id"] for r in rows(client.get(f"{BASE}/requests.json"), "json")}
    assert dispute.is_dispute and dispute.tracking_no not in listed
    assert client.get(f"{BASE}/requests/{dispute.tracking_no}.json").status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_cannot_break_or_inject_into_the_output(client, categories, grid, fmt):
    case = new_case(description='</description><status>closed</status>& "x" \x01\x0b ok')
    response = client.get(f"{BASE}/requests/{case.tracking_no}.{fmt}")
    [found] = rows(response, fmt)  # parses, so the XML is well-formed
    assert found["status"] == "open"
    assert found["description"] == '</description><status>closed</status>& "x"  ok'


def test_get_requests_query_count(client, categories, grid, django_assert_max_num_queries,
                                  street_operator):
    now = timezone.now()
    for n in range(6):
        lon, lat = spot(grid, n)
        case = new_case(at=now - timedelta(hours=n), lon=lon, lat=lat)
        if n % 2:
            services.case_dispatch_departments(actor=street_operator, case=case,
                                               version=case.version, lead="water")
    # cases + the lead tasks (prefetch) + the streets' names
    with django_assert_max_num_queries(3):
        response = client.get(f"{BASE}/requests.json")
    assert len(rows(response, "json")) >= 6


# -- keys: the command and the admin -----------------------------------------------------------

def test_key_commands(db, capsys, categories, grid, client):
    from django.core.management import CommandError, call_command

    call_command("open311", "create-key", "--name", "partner 311")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("o311_") and len(raw) > 40
    from zhili.governance.models import Open311Key

    key = Open311Key.objects.get(name="partner 311")
    assert raw not in key.key_hash and key.prefix == raw[:12]
    call_command("open311", "list-keys")
    listing = capsys.readouterr().out
    assert key.prefix in listing and "active" in listing and raw not in listing
    assert post(client, "json", good_form((key, raw), grid)).status_code == 200
    call_command("open311", "revoke-key", key.prefix)
    assert "revoked" in capsys.readouterr().out
    assert_error(post(client, "json", good_form((key, raw), grid)), "json", 403, "api_key")
    with pytest.raises(CommandError):
        call_command("open311", "revoke-key", "o311_nothing")
    with pytest.raises(CommandError):
        call_command("open311", "create-key", "--name", " ")


def test_admin_mints_a_key_once_and_revokes(client, django_user_model):
    from zhili.audit.models import AuditEntry
    from zhili.governance.models import Open311Key

    # (The demo's "admin" is a city administrator by role, not a Django superuser.)
    root = django_user_model.objects.create_superuser("o311-root", "root@example.cn", "x-pass-1")
    client.force_login(root)
    admin_client = client

    response = admin_client.post("/admin/governance/open311key/add/", {"name": "WeChat app"},
                                 follow=True)
    assert response.status_code == 200
    key = Open311Key.objects.get(name="WeChat app")
    shown = [str(m) for m in response.context["messages"]]
    assert any(key.prefix in m for m in shown)
    assert AuditEntry.objects.filter(action="open311.key_create", object_id=str(key.pk)).exists()
    response = admin_client.post("/admin/governance/open311key/", {
        "action": "revoke_selected", "_selected_action": [key.pk]}, follow=True)
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_names_follow_the_clients_language(client, categories):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    services_ = {s["service_code"]: s for s in rows(client.get(f"{BASE}/services.json"), "json")}
    assert services_["road-damage"]["service_name"] == "道路破损"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    services_ = {s["service_code"]: s for s in rows(client.get(f"{BASE}/services.json"), "json")}
    assert services_["road-damage"]["service_name"] == "Road damage"
