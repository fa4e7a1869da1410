"""Login with throttling: repeated failures for a username or an address are refused."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from zhili.accounts.models import LoginFailure


def login_throttled(username: str, client_ip: str | None) -> bool:
    since = timezone.now() - timedelta(seconds=settings.ZHILI_LOGIN_WINDOW_SECONDS)
    limit = settings.ZHILI_LOGIN_MAX_FAILURES
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    # An address gets more room than a username: many users can share a NAT.
    return bool(client_ip) and recent.filter(client_ip=client_ip).count() >= limit * 4


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            return None
        client_ip = request.META.get("REMOTE_ADDR") if request is not None else None
        if login_throttled(username, client_ip):
            if request is not None:
                request.login_throttled = True
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            LoginFailure.objects.create(username=username.lower()[:150], client_ip=client_ip)
        return user
