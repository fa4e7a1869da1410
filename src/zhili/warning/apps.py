from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import GRID_ROLES, OPERATOR_ROLES, STAFF_ROLES, Role
from zhili.core.plugins import (
    DemoStep,
    MapLayer,
    NavItem,
    UrlMount,
    ZhiliAppConfig,
    grant,
    merge_grants,
)


class WarningConfig(ZhiliAppConfig):
    name = "zhili.warning"
    label = "warning"
    verbose_name = "Early warning"

    # view_warning: the risk list, sensors and warnings of the area;
    # manage_warning: raise, cancel and close warnings, edit the risk list and rules.
    permissions = {
        "warning.view_warning": _("See the risk list and the warnings of the area"),
        "warning.manage_warning": _("Raise, cancel and close warnings; edit the risk list"),
    }
    grants = merge_grants(
        grant(STAFF_ROLES | {Role.RESPONSIBLE_PERSON}, {"warning.view_warning"}),
        grant(OPERATOR_ROLES - GRID_ROLES | {Role.EMERGENCY_COMMANDER, Role.CITY_ADMIN},
              {"warning.manage_warning"}),
    )
    nav_items = (NavItem(_("Warnings"), "warning:list", "warning.view_warning", order=40),
                 NavItem(_("My warnings"), "warning:mine", "warning.view_warning", order=41))
    urls = (UrlMount("warning/", "zhili.warning.urls"), UrlMount("cap/", "zhili.warning.cap.urls"))
    api_router = ("/warning", "zhili.warning.api.router")
    kpis = "zhili.warning.kpis.KPIS"
    kpi_sources = "zhili.warning.kpis.SOURCES"
    demo_steps = (DemoStep("warning", "zhili.warning.demo.seed",
                           after=("registry", "governance")),)
    map_layers = (MapLayer("risk-points", _("Risk points and warnings"), "warning:layer_points",
                           "warning.view_warning", viewport=True),)

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from zhili.warning.ingest import sensors_cache_clear
        from zhili.warning.models import Rule, Sensor
        from zhili.warning.rules import rules_cache_clear

        # Ingest keeps sensors and rules per process; an edit here clears them at once
        # (other processes see rule edits on their next batch, new sensors on first use).
        for signal in (post_save, post_delete):
            signal.connect(sensors_cache_clear, sender=Sensor, dispatch_uid="warning.sensors")
            signal.connect(rules_cache_clear, sender=Rule, dispatch_uid="warning.rules")

        # An acknowledged delivery of a warning's message acknowledges the warning.
        from zhili.notifications.services.inbox import delivery_acknowledged
        from zhili.warning.reach import warning_acknowledged

        delivery_acknowledged.connect(warning_acknowledged, dispatch_uid="warning.acknowledged")

        # Closing the on-site case a warning opened shows on the warning's timeline.
        from zhili.governance.events import case_event_recorded
        from zhili.warning.handling import case_event_seen

        case_event_recorded.connect(case_event_seen, dispatch_uid="warning.case_closed")
