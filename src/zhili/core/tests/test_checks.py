"""The start-up check refuses unsafe production settings."""

from zhili.core.checks import unsafe_production_settings


def ids():
    return {p.id for p in unsafe_production_settings(None)}


def test_the_demo_settings_pass(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.SECRET_KEY = "x" * 50
    assert ids() == set()


def test_debug_on_a_public_host_is_refused(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["zhili.cq.example"]
    settings.SECRET_KEY = "x" * 50
    assert "zhili.E001" in ids()


def test_a_default_or_short_secret_is_refused_on_a_public_host(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["zhili.cq.example"]
    settings.SECRET_KEY = "django-insecure-" + "x" * 40
    problems = unsafe_production_settings(None)
    assert [p.level for p in problems if p.id == "zhili.E002"] == [40]  # ERROR
    settings.SECRET_KEY = "short"
    assert "zhili.E002" in ids()


def test_a_wildcard_host_is_refused(settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.SECRET_KEY = "x" * 50
    assert "zhili.E003" in ids()


def test_the_server_entry_point_refuses_to_start(settings):
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    from zhili.core.checks import refuse_unsafe_settings

    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["zhili.cq.example"]
    with pytest.raises(ImproperlyConfigured, match="Refusing to start"):
        refuse_unsafe_settings()
