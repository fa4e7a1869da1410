"""A dispatched team's members read its message in their own languages."""

from __future__ import annotations

import pytest

from zhili.accounts.models import User
from zhili.accounts.services import user_language_set
from zhili.cockpit.tests.test_teams import dispatch, team
from zhili.emergency import services
from zhili.notifications.models import Message

pytestmark = pytest.mark.django_db


def test_each_member_is_told_in_their_language(api, bearer, grid, warning, commander,
                                               only_our_teams):
    t = team(grid, "T-LANG")
    chinese = User.objects.create_user(username="member_zh", password="x")
    english = User.objects.create_user(username="member_en", password="x")
    user_language_set(actor=english, user=english, language="en")
    services.resource_members_set(actor=commander, resource=t, users=[chinese, english])

    r = dispatch(api, bearer(commander), "warnings", warning.number)
    assert r.status_code == 200, r.content
    assert r.json()["notified"] == 4  # in-app and SMS to each member
    zh = Message.objects.get(kind="incident.team_dispatched", deliveries__user=chinese,
                             deliveries__channel="inapp")
    en = Message.objects.get(kind="incident.team_dispatched", deliveries__user=english,
                             deliveries__channel="inapp")
    number = r.json()["incident"]
    assert zh.title == f"队伍T-LANG：已派往突发事件 {number}"
    assert en.title == f"队伍T-LANG: sent to incident {number}"
    assert "Please acknowledge." in en.body and "Please acknowledge." not in zh.body
    assert en.dedupe_key == f"{zh.dedupe_key}@en"
