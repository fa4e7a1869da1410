from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "zhili.audit"
    label = "audit"
    verbose_name = "Audit log"
