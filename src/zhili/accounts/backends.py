"""Login with throttling: repeated failures for a username or an address are refused.

After ZHILI_LOGIN_MAX_FAILURES failed attempts for one username within
ZHILI_LOGIN_WINDOW_SECONDS (or four times as many from one address, which
many users may share behind a NAT), every further attempt is refused, even
with the right password, until the oldest failure leaves the window. Refused
attempts are not counted, so the rows per username stay bounded and the
lock-out ends on its own. Failures are rows, so every process shares them.
A successful login clears the username's failures (services.user_log_in).

Behind a reverse proxy, list it in ZHILI_TRUSTED_PROXIES, or all users share
its address; X-Forwarded-For from anyone else is ignored (core/forwarding.py).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from zhili.accounts.models import LoginFailure
from zhili.core import forwarding

# Failures older than this many windows are deleted as new ones arrive.
KEEP_WINDOWS = 4


def _throttle_key(username: str) -> str:
    return username.strip().lower()[:150]


def client_address(request) -> str | None:
    # X-Forwarded-For only from ZHILI_TRUSTED_PROXIES (core/forwarding.py).
    return forwarding.client_address(request) if request is not None else None


def login_throttled(username: str, client_ip: str | None) -> bool:
    since = timezone.now() - timedelta(seconds=settings.ZHILI_LOGIN_WINDOW_SECONDS)
    limit = settings.ZHILI_LOGIN_MAX_FAILURES
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=_throttle_key(username)).count() >= limit:
        return True
    # An address gets more room than a username: many users can share a NAT.
    return bool(client_ip) and recent.filter(client_ip=client_ip).count() >= limit * 4


def login_failure_record(username: str, client_ip: str | None) -> None:
    now = timezone.now()
    LoginFailure.objects.create(username=_throttle_key(username), client_ip=client_ip, at=now)
    old = now - timedelta(seconds=settings.ZHILI_LOGIN_WINDOW_SECONDS * KEEP_WINDOWS)
    LoginFailure.objects.filter(at__lt=old).delete()


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        client_ip = client_address(request)
        if login_throttled(username, client_ip):
            if request is not None:
                request.login_throttled = True
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username, client_ip)
        return user
