from zhili.core.plugins import ZhiliAppConfig


class EmergencyConfig(ZhiliAppConfig):
    name = "zhili.emergency"
    label = "emergency"
    verbose_name = "Emergency: rescue resources, roads, rescue circles"
