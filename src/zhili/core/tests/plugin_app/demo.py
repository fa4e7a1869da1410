from zhili.accounts.models import User
from zhili.accounts.services import role_assign, user_create
from zhili.core.seeding import DEMO_PASSWORD
from zhili.geo.models import AreaNode


def seed(*, seed: int, log) -> None:
    user = User.objects.filter(username="lamp_keeper").first()
    if user is None:
        user = user_create(username="lamp_keeper", password=DEMO_PASSWORD, display_name="Lamp keeper")
        role_assign(user=user, role="street_operator", area=AreaNode.objects.get(code="500103001000"))
    log("  lamp keeper ready")


def logins():
    return [("lamp_keeper", "1st street", "Street centre operator")]
