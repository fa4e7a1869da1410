import pytest
from django.db import connection, transaction

from zhili.audit import triggers


@pytest.fixture
def street_admin(db, other_street):
    """A city administrator whose role is held on one street only (500103002)."""
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign, user_create

    user = user_create(username="street_admin2", password=None, display_name="Street admin")
    role_assign(user=user, role=Role.CITY_ADMIN, area=other_street)
    return user


@pytest.fixture
def tamper():
    """tamper(sql, params) runs raw SQL with the audit triggers lifted, as an attacker
    with the table owner's rights would; the test's rollback puts everything back."""

    def run(sql, params=None):
        with transaction.atomic():
            with triggers.lifted(connection):
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)

    return run
