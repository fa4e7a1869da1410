"""notify(text=...): each recipient reads the message in their own language, one message
per language, each under its own dedupe key, so a retry writes nothing new."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zhili.accounts.models import User
from zhili.accounts.services import user_language_set
from zhili.notifications import services
from zhili.notifications.models import Delivery, Message
from zhili.notifications.services.messages import DEDUPE_MAX, language_dedupe


def text(language):
    # "Log in" is in the catalogue: its zh-Hans text shows the override took effect.
    return f"{_('Log in')} ({get_language()})", f"body for {language}"


def inbox_titles(user, kind: str) -> list[str]:
    return list(Message.objects.filter(deliveries__user=user, kind=kind)
                .values_list("title", flat=True).distinct())


def test_each_language_gets_its_own_message(grid_worker, other_grid_worker, street_operator):
    user_language_set(actor=other_grid_worker, user=other_grid_worker, language="en")
    recipients = [grid_worker, other_grid_worker.pk, street_operator.pk]
    for _attempt in range(3):  # a retried write, a re-run sweep
        offered = services.notify(recipients=recipients, kind="test.lang", text=text,
                                  dedupe="test:lang", channels=("inapp", "sms"))
        assert offered == 6
    assert inbox_titles(grid_worker, "test.lang") == ["登录 (zh-hans)"]
    assert inbox_titles(street_operator, "test.lang") == ["登录 (zh-hans)"]
    assert inbox_titles(other_grid_worker, "test.lang") == ["Log in (en)"]
    messages = dict(Message.objects.filter(kind="test.lang").values_list("dedupe_key", "body"))
    assert messages == {"test:lang": "body for zh-hans", "test:lang@en": "body for en"}
    assert Delivery.objects.filter(message__kind="test.lang").count() == 6


def test_one_language_is_one_message_under_the_callers_key(grid_worker, other_grid_worker):
    services.notify(recipients=[grid_worker, other_grid_worker], kind="test.one", text=text,
                    dedupe="test:one")
    assert list(Message.objects.filter(kind="test.one").values_list("dedupe_key", flat=True)) \
        == ["test:one"]


def test_loaded_users_cost_no_language_query(grid_worker, other_grid_worker):
    user_language_set(actor=None, user=other_grid_worker, language="en")
    users = list(User.objects.filter(pk__in=[grid_worker.pk, other_grid_worker.pk]))
    with CaptureQueriesContext(connection) as given_rows:
        services.notify(recipients=users, kind="test.q", text=text, dedupe="test:q1")
    with CaptureQueriesContext(connection) as given_ids:
        services.notify(recipients=[u.pk for u in users], kind="test.q", text=text,
                        dedupe="test:q2")
    assert len(given_ids) == len(given_rows) + 1  # the one query for the ids' languages


def test_an_unknown_stored_language_reads_the_platforms(grid_worker):
    User.objects.filter(pk=grid_worker.pk).update(language="xx")  # a language since removed
    services.notify(recipients=[grid_worker.pk], kind="test.old", text=text, dedupe="test:old")
    assert inbox_titles(grid_worker, "test.old") == [f"登录 ({settings.LANGUAGE_CODE})"]


def test_a_long_key_keeps_its_language_suffix():
    key = "k" * 300
    assert language_dedupe(key, "en").endswith("@en") and len(language_dedupe(key, "en")) \
        == DEDUPE_MAX
    assert language_dedupe(key, settings.LANGUAGE_CODE) == key[:DEDUPE_MAX]
