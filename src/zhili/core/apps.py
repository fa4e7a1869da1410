from django.utils.translation import gettext_lazy as _

from zhili.core.plugins import NavItem, UrlMount, ZhiliAppConfig


class CoreConfig(ZhiliAppConfig):
    name = "zhili.core"
    label = "core"
    verbose_name = "Zhili core"

    nav_items = (NavItem(_("Home"), "core:home", order=0),)
    urls = (UrlMount("", "zhili.core.urls"),)

    def ready(self):
        from zhili.core import checks  # noqa: F401  (registers the start-up checks)
