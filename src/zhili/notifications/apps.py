from zhili.core.plugins import UrlMount, ZhiliAppConfig


class NotificationsConfig(ZhiliAppConfig):
    name = "zhili.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    api_router = ("/notifications", "zhili.notifications.api.router")
    urls = (UrlMount("n/", "zhili.notifications.urls"),)  # short: it goes in an SMS
