from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zhili.core"
    label = "core"
    verbose_name = "Zhili core"

    def ready(self):
        from zhili.core import checks  # noqa: F401  (registers the start-up checks)
