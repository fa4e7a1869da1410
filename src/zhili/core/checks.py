"""Start-up checks: refuse settings that are unsafe on a public host."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from zhili.core.conf import INSECURE_SECRET_PREFIX

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}


@register(Tags.security, deploy=False)
def unsafe_production_settings(app_configs, **kwargs):
    problems = []
    public_hosts = [h for h in settings.ALLOWED_HOSTS if h not in LOCAL_HOSTS]
    if settings.DEBUG and public_hosts:
        problems.append(
            Error(
                "ZHILI_DEBUG is on while ZHILI_ALLOWED_HOSTS names public hosts "
                f"({', '.join(public_hosts)}): debug pages leak settings and data.",
                hint="Unset ZHILI_DEBUG on any host that others can reach.",
                id="zhili.E001",
            )
        )
    if len(settings.SECRET_KEY) < 32 or settings.SECRET_KEY.startswith(INSECURE_SECRET_PREFIX):
        level = Warning if not public_hosts else Error
        problems.append(
            level(
                "ZHILI_SECRET_KEY is short or a well-known default.",
                hint="Set ZHILI_SECRET_KEY to 50+ random characters (or unset it to use the generated one).",
                id="zhili.E002",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                "ZHILI_ALLOWED_HOSTS contains '*'.",
                hint="Name the hosts this server answers for.",
                id="zhili.E003",
            )
        )
    return problems


def refuse_unsafe_settings() -> None:
    """Called by the ASGI/WSGI entry points: a server never starts on unsafe settings."""
    from django.core.exceptions import ImproperlyConfigured

    serious = [p for p in unsafe_production_settings(None) if p.is_serious()]
    if serious:
        raise ImproperlyConfigured(
            "Refusing to start: " + " ".join(f"{p.msg} ({p.hint})" for p in serious))


@register()
def app_declarations(app_configs, **kwargs):
    """What the apps declare (core.plugins) must hang together: no grant of an
    undeclared permission, no demo step after an unknown one."""
    from zhili.core.plugins import registry

    return [Error(problem, hint="Fix the app's AppConfig declarations.", id="zhili.E010")
            for problem in registry().problems]
