from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "zhili.governance"
    label = "governance"
    verbose_name = "Grid governance"
