from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import Role
from zhili.core.plugins import DemoStep, NavItem, UrlMount, ZhiliAppConfig


class AccountsConfig(ZhiliAppConfig):
    name = "zhili.accounts"
    label = "accounts"
    verbose_name = "People and roles"

    permissions = {
        "accounts.manage_users": _("Manage the users and roles of the area"),
        "accounts.manage_tokens": _("Manage the API tokens of the area's users"),
    }
    grants = {Role.CITY_ADMIN: {"accounts.manage_users", "accounts.manage_tokens"}}
    nav_items = (
        NavItem(_("Administration"), "admin:index", order=85,
                visible="zhili.accounts.selectors.may_use_admin"),
        NavItem(_("API docs"), "api-1.0.0:openapi-view", order=90,
                visible="zhili.accounts.selectors.uses_api"),
    )
    urls = (UrlMount("accounts/", "zhili.accounts.urls"),)
    api_router = ("/accounts", "zhili.accounts.api.router")
    demo_steps = (DemoStep("accounts", "zhili.accounts.demo.seed", after=("geo",),
                           logins="zhili.accounts.demo.logins"),)

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from zhili.accounts import checks  # noqa: F401  (registers the role checks)
        from zhili.accounts.views import language_on_login

        # Any login (ours, the admin's): pages follow the user's language from now on.
        user_logged_in.connect(language_on_login, dispatch_uid="zhili.accounts.language")
