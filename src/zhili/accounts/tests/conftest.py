import pytest


@pytest.fixture
def street_admin(db, other_street):
    """A city administrator whose role is held on one street only (500103002)."""
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign, user_create

    user = user_create(username="street_admin2", password="street-admin-pass-2026",
                       display_name="Street admin")
    role_assign(user=user, role=Role.CITY_ADMIN, area=other_street)
    return user
