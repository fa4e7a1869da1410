"""The bearer token's written-out look-up (auth.token_sql) reads what the ORM reads."""

from datetime import timedelta

from django.db.models import F
from django.test import RequestFactory
from django.utils import timezone

from zhili.accounts.auth import ROLE_FIELDS, BearerToken
from zhili.accounts.models import ApiToken, User
from zhili.accounts.services import token_create


def _orm(raw):
    """The queryset the look-up used to be: token, user and their roles."""
    from zhili.accounts.auth import token_digest

    return list(
        ApiToken.objects.select_related("user")
        .filter(
            key_hash=token_digest(raw),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .annotate(
            **{f"ra_{f}": F(f"user__role_assignments__{f}") for f in ROLE_FIELDS},
            ra_department_code=F("user__role_assignments__department__code"),
        )
        .order_by("ra_id")
    )


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_token_sql_matches_the_orm(db, department_officer, grid_worker, resident):
    for user in (department_officer, grid_worker, resident):
        _, raw = token_create(user=user, name="sql", days=1)
        rows = _orm(raw)
        request = RequestFactory().get("/")
        found = BearerToken().authenticate(request, raw)
        assert found.pk == user.pk
        token = request.api_token
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=None)  # as the ORM read it
        token.last_used_at = None
        assert _fields(token) == _fields(rows[0])
        assert _fields(found) == _fields(rows[0].user)
        assert isinstance(found.is_active, bool) and isinstance(
            token.expires_at, type(timezone.now())
        )
        got = [
            (
                a.pk,
                a.role,
                a.area_id,
                a.area_path,
                a.department_id,
                a.department.code if a.department_id else None,
            )
            for a in found.active_assignments()
        ]
        want = [
            (
                r.ra_id,
                r.ra_role,
                r.ra_area_id,
                r.ra_area_path,
                r.ra_department_id,
                r.ra_department_code,
            )
            for r in rows
            if r.ra_id is not None
        ]
        assert got == want
        assert found.roles() == User.objects.get(pk=user.pk).roles()


def test_revoked_expired_or_inactive_do_not_authenticate(db, grid_worker):
    request = RequestFactory().get("/")
    token, raw = token_create(user=grid_worker, name="gone", days=1)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert BearerToken().authenticate(request, raw) is None
    token, raw = token_create(user=grid_worker, name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert BearerToken().authenticate(request, raw) is None
    token, raw = token_create(user=grid_worker, name="inactive", days=1)
    User.objects.filter(pk=grid_worker.pk).update(is_active=False)
    assert BearerToken().authenticate(request, raw) is None
