from datetime import timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def problem(street, street_operator):
    """A problem on the street's grid-governance list, owned by the street."""
    from zhili.supervision.problems.services import problem_raise

    return problem_raise(actor=street_operator, list_type="grid_weekly",
                         title="巡查记录缺失", area=street.code,
                         deadline=timezone.localdate() + timedelta(days=7))


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Report files and evidence go to the test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
