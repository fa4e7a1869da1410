from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "zhili.registry"
    label = "registry"
    verbose_name = "Base registries"
