from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "zhili.notifications"
    label = "notifications"
    verbose_name = "Notifications"
