from zhili.core.plugins import ZhiliAppConfig


class CockpitConfig(ZhiliAppConfig):
    name = "zhili.cockpit"
    label = "cockpit"
    verbose_name = "The one map"
