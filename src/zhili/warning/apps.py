from django.apps import AppConfig


class WarningConfig(AppConfig):
    name = "zhili.warning"
    label = "warning"
    verbose_name = "Early warning"
