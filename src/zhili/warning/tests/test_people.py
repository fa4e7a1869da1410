"""The people a warning reaches: the responder's phone page from the SMS link, "my
warnings" for a logged-in recipient, the voice call at red, an operator raising and
cancelling by hand, the on-site case's closing on the warning, and the API."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from zhili.notifications.acklinks import ack_token
from zhili.notifications.fanout import message_fanout_run
from zhili.notifications.models import Delivery, Message
from zhili.warning.ingest import RawReading, readings_ingest
from zhili.warning.models import Warning

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def people(slope, street):
    from zhili.registry.models import Person
    from zhili.warning.services import responsible_assign

    in_grid = list(Person.objects.filter(grid=slope.grid).exclude(phone="").order_by("id")[:2])
    in_street = (Person.objects.filter(area_path__startswith=street.path).exclude(phone="")
                 .exclude(pk__in=[p.pk for p in in_grid]).order_by("id").first())
    for tier, person in (("owner", in_grid[0]), ("grid", in_grid[1]), ("street", in_street)):
        responsible_assign(actor=None, risk_point=slope, tier=tier, person=person)
    return {"owner": in_grid[0], "grid": in_grid[1], "street": in_street}


def rain(t0, *values, start=0, sensor="S-RAIN-1"):
    return [RawReading(sensor, (t0 + (start + i) * MIN).isoformat(), v)
            for i, v in enumerate(values)]


def deliveries(warning, **filters):
    for message in Message.objects.filter(object_type="warning.warning", object_id=str(warning.pk)):
        message_fanout_run(message_id=message.pk)  # what the worker does
    return Delivery.objects.filter(message__object_type="warning.warning",
                                   message__object_id=str(warning.pk), **filters)


def owner_link(warning, people):
    delivery = deliveries(warning, channel="sms", person_id=people["owner"].pk).get()
    return delivery, f"/warning/r/{ack_token(delivery.pk)}/"


def test_the_sms_link_opens_the_responder_page_with_what_to_do(client, people, t0):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    delivery, url = owner_link(warning, people)
    assert "/warning/r/" in delivery.message.link
    page = client.get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert warning.number in html and "I have received this" in html
    assert 'class="level level-blue"' in html and "What to do now" in html
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None  # opening (a link preview) acknowledges nothing


def test_acknowledge_once_then_report_the_action_taken(client, people, t0):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    delivery, url = owner_link(warning, people)
    assert client.post(url, {"action": "ack"}).status_code == 302
    delivery.refresh_from_db()
    assert delivery.acknowledged_via == "link"
    warning.refresh_from_db()
    assert warning.status == "acknowledged"
    page = client.get(url).content.decode()
    assert "I have received this" not in page and "Acknowledged at" in page  # single-use
    short = client.post(url, {"action": "report", "text": "x"})
    assert short.status_code == 422 and "at least 2 characters" in short.content.decode()
    assert client.post(url, {"action": "report", "text": "两户已撤离，设置警戒线"}).status_code == 302
    warning.refresh_from_db()
    assert warning.status == "handling"
    report = warning.events.get(kind="action_reported")
    assert report.note == "两户已撤离，设置警戒线" and report.data == {"person": people["owner"].pk}
    assert "两户已撤离" in client.get(url).content.decode()


def test_reporting_first_acknowledges_too(client, people, t0):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    delivery, url = owner_link(warning, people)
    client.post(url, {"action": "report", "text": "已到现场查看"})
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is not None


def test_bad_and_expired_links(client, people, t0):
    assert client.get("/warning/r/nonsense/").status_code == 404
    assert client.post("/warning/r/nonsense/", {"action": "ack"}).status_code == 404
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    delivery, url = owner_link(warning, people)
    with override_settings(ZHILI_ACK_LINK_HOURS=-1):
        gone = client.post(url, {"action": "ack"})
    assert gone.status_code == 410 and "expired" in gone.content.decode()
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None
    # A link to a delivery of another kind of message is not a warning's page.
    other = Delivery.objects.exclude(message__object_type="warning.warning").first()
    if other is not None:
        assert client.get(f"/warning/r/{ack_token(other.pk)}/").status_code == 404


def test_the_page_lists_the_persons_other_open_warnings(client, people, t0, slope):
    from zhili.warning.services import sensor_register

    sensor_register(actor=None, risk_point=slope, code="S-RAIN-2", sensor_type="rainfall_1h")
    readings_ingest(readings=rain(t0, 18) + rain(t0, 18, sensor="S-RAIN-2"))
    first = Warning.objects.get(condition="rule:S-RAIN-1")
    second = Warning.objects.get(condition="rule:S-RAIN-2")
    deliveries(second)
    _delivery, url = owner_link(first, people)
    html = client.get(url).content.decode()
    assert "Your other open warnings" in html and "not acknowledged" in html
    assert html.count("/warning/r/") >= 1


def test_red_calls_the_persons_as_well(people, t0):
    readings_ingest(readings=rain(t0, 18, 55, 80, 120))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    assert warning.level == 4
    called = set(deliveries(warning, channel="voice").values_list("person_id", flat=True))
    assert people["owner"].pk in called and people["street"].pk in called


def test_blue_does_not_call(people, t0):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    assert not deliveries(warning, channel="voice").exists()


def test_my_warnings_for_a_logged_in_responsible_person(client, people, t0, slope, grid_worker):
    from zhili.warning.models import ResponsiblePerson

    ResponsiblePerson.objects.filter(risk_point=slope, tier="owner").update(user=grid_worker)
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    deliveries(warning)
    client.force_login(grid_worker)
    html = client.get("/warning/mine/").content.decode()
    assert warning.number in html and "I have received this" in html
    assert client.post("/warning/mine/", {"warning": warning.number, "action": "ack"}).status_code == 302
    sms = Delivery.objects.get(message__object_type="warning.warning", person_id=people["owner"].pk,
                               channel="sms")
    assert sms.acknowledged_at is not None
    bad = client.post("/warning/mine/", {"warning": warning.number, "action": "report", "text": ""})
    assert bad.status_code == 422
    client.post("/warning/mine/", {"warning": warning.number, "action": "report",
                                   "text": "巡查完毕，无新增裂缝"})
    assert warning.events.filter(kind="action_reported", actor=grid_worker).exists()
    other = client.post("/warning/mine/", {"warning": "W-NOT-MINE", "action": "ack"})
    assert other.status_code == 302  # a message, nothing acknowledged


def test_an_operator_raises_by_hand_and_a_repeat_relevels(client, slope, district_operator):
    client.force_login(district_operator)
    bad = client.post("/warning/raise/", {"point": slope.code, "level": "7", "note": ""})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "Choose a level" in html and "Say what was observed" in html
    missing = client.post("/warning/raise/", {"point": "RP-NONE", "level": "2", "note": "看到裂缝"})
    assert missing.status_code == 422 and "No risk point RP-NONE" in missing.content.decode()
    assert not Warning.objects.filter(source="operator").exists()
    done = client.post("/warning/raise/", {"point": slope.code, "level": "2",
                                           "note": "群众报告坡体裂缝"})
    warning = Warning.objects.get(source="operator")
    assert done.status_code == 302 and done["Location"].endswith(f"/warning/w/{warning.number}/")
    assert warning.level == 2 and warning.events.get(kind="raised").actor == district_operator
    client.post("/warning/raise/", {"point": slope.code, "level": "3", "note": "裂缝扩大"})
    assert Warning.objects.filter(source="operator").count() == 1
    warning.refresh_from_db()
    assert warning.level == 3


def test_raising_needs_the_manage_permission_in_the_points_area(client, slope, grid_worker,
                                                                other_street_operator):
    for user in (grid_worker, other_street_operator):
        client.force_login(user)
        client.post("/warning/raise/", {"point": slope.code, "level": "2", "note": "看到裂缝了"})
    assert not Warning.objects.filter(source="operator").exists()


def test_cancel_from_the_detail_page(client, slope, district_operator):
    from zhili.warning.handling import warning_raise_by_operator

    warning = warning_raise_by_operator(actor=district_operator, point_code=slope.code, level=1,
                                        note="试报警")
    client.force_login(district_operator)
    page = client.get(f"/warning/w/{warning.number}/").content.decode()
    assert "Cancel this warning" in page and "Who it reached" in page
    client.post(f"/warning/w/{warning.number}/cancel/", {"reason": ""})
    warning.refresh_from_db()
    assert warning.status != "cancelled"
    client.post(f"/warning/w/{warning.number}/cancel/", {"reason": "误报，已核实"})
    warning.refresh_from_db()
    assert warning.status == "cancelled"


def test_closing_the_on_site_case_shows_on_the_warning(people, t0):
    from zhili.governance.services.lifecycle import close_now
    from zhili.warning.selectors import warning_case

    readings_ingest(readings=rain(t0, 18, 55))  # orange: opens a case
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    case = warning_case(warning=warning)
    assert case is not None
    with transaction.atomic():
        close_now(case, actor=None, now=timezone.now(), outcome="resolved")
    event = warning.events.get(kind="case_closed")
    assert event.data["case"] == case.tracking_no


def test_the_detail_says_who_acknowledged(client, people, t0, district_operator):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    _delivery, url = owner_link(warning, people)
    client.post(url, {"action": "ack"})
    client.force_login(district_operator)
    html = client.get(f"/warning/w/{warning.number}/").content.decode()
    assert 'data-channel="sms"' in html and "Acknowledged by" in html
    assert people["owner"].name not in html  # masked


def test_the_api_lists_raises_acknowledges_and_reports(client, people, t0, slope,
                                                       district_operator, grid_worker):
    client.force_login(district_operator)
    bad = client.post("/api/v1/warning/warnings", {"point": slope.code, "level": 0, "note": " "},
                      content_type="application/json")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"level", "note"}
    made = client.post("/api/v1/warning/warnings",
                       {"point": slope.code, "level": 2, "note": "坡脚渗水"},
                       content_type="application/json")
    assert made.status_code == 201
    number = made.json()["number"]
    listed = client.get("/api/v1/warning/warnings").json()
    assert number in [w["number"] for w in listed["items"]]
    assert client.get(f"/api/v1/warning/warnings/{number}").json()["colour"] == "yellow"
    assert client.get("/api/v1/warning/warnings/W-NOPE").status_code == 404
    # The grid's worker got it in-app (a role holder): acknowledge and report.
    deliveries(Warning.objects.get(number=number))
    client.force_login(district_operator)
    assert client.post(f"/api/v1/warning/warnings/{number}/acknowledge").status_code == 404
    assert client.post(f"/api/v1/warning/warnings/{number}/actions", {"text": "已派员"},
                       content_type="application/json").status_code == 403
    client.force_login(grid_worker)
    ack = client.post(f"/api/v1/warning/warnings/{number}/acknowledge")
    assert ack.status_code == 200, ack.content
    assert client.post(f"/api/v1/warning/warnings/{number}/actions", {"text": "已派员"},
                       content_type="application/json").status_code == 200
    client.force_login(district_operator)
    cancel = client.post(f"/api/v1/warning/warnings/{number}/cancel", {"reason": "误报，已核实"},
                         content_type="application/json")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/warning/warnings/{number}/cancel", {"reason": "误报，已核实"},
                        content_type="application/json")
    assert again.status_code == 409


def test_the_api_refuses_who_may_not(client, slope, district_operator, other_street_operator):
    from zhili.warning.handling import warning_raise_by_operator

    warning = warning_raise_by_operator(actor=district_operator, point_code=slope.code, level=1,
                                        note="试报警")
    client.force_login(other_street_operator)
    assert client.get(f"/api/v1/warning/warnings/{warning.number}").status_code == 404
    assert client.post("/api/v1/warning/warnings", {"point": slope.code, "level": 2,
                                                    "note": "看到裂缝了"},
                       content_type="application/json").status_code == 422
    client.logout()
    assert client.get("/api/v1/warning/warnings").status_code == 401
