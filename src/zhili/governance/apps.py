from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "zhili.governance"
    label = "governance"
    verbose_name = "Grid governance"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from zhili.governance.models import Category
        from zhili.governance.services.intake import category_cache_clear

        # Intake keeps the categories per process; an edit here clears them.
        for signal in (post_save, post_delete):
            signal.connect(category_cache_clear, sender=Category,
                           dispatch_uid="governance.category_cache_clear")
