from zhili.core.plugins import ZhiliAppConfig


class FloodConfig(ZhiliAppConfig):
    name = "zhili.flood"
    label = "flood"
    verbose_name = "Flood and waterlogging forecasts (EPA SWMM)"
