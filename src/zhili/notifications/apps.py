from zhili.core.plugins import ZhiliAppConfig


class NotificationsConfig(ZhiliAppConfig):
    name = "zhili.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    api_router = ("/notifications", "zhili.notifications.api.router")
