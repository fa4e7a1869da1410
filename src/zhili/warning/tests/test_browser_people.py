"""A responsible person on a phone, in real Chromium: the SMS link opens the warning,
one press acknowledges, a report of the action taken lands on the timeline."""

import pytest

from zhili.notifications.acklinks import ack_token
from zhili.notifications.fanout import message_fanout_run
from zhili.notifications.models import Delivery, Message
from zhili.warning.models import Warning

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sms_link_on_a_phone(browser_page):
    warning = (Warning.objects.filter(risk_point__code__startswith="DEMO-RP-",
                                      status__in=Warning.OPEN, level__gte=1)
               .order_by("-level").first())
    for pk in Message.objects.filter(object_type="warning.warning",
                                     object_id=str(warning.pk)).values_list("pk", flat=True):
        message_fanout_run(message_id=pk)
    delivery = (Delivery.objects.filter(message__object_type="warning.warning",
                                        message__object_id=str(warning.pk), channel="sms",
                                        acknowledged_at__isnull=True).order_by("id").first())
    page = browser_page
    page.goto(f"/warning/r/{ack_token(delivery.pk)}/")
    assert warning.number in page.content()
    assert page.locator(".level").first.is_visible()
    page.click("form.ack button")
    page.wait_for_selector("[data-acknowledged=yes]")
    page.fill("#r-text", "已到现场，人员已撤离")
    page.click("form.report button")
    page.wait_for_selector("ol.timeline li[data-kind=action_reported]")
    page.screenshot(path="/tmp/responder.png", full_page=True)
    # Fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    delivery.refresh_from_db()
    assert delivery.acknowledged_via == "link"
    assert Warning.objects.get(pk=warning.pk).status == "handling"
