from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BundlesConfig(AppConfig):
    # The architecture calls this app `services`; that would read zhili.services.services.
    name = "zhili.bundles"
    label = "bundles"
    verbose_name = _("One thing, one go (一件事一次办)")
