from django.urls import path

from zhili.bundles import views

app_name = "bundles"
urlpatterns = [
    path("", views.bundle_list, name="list"),
    path("applications/", views.application_list, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("inbox/", views.inbox, name="inbox"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/attachments/<int:attachment_id>/", views.task_attachment,
         name="task_attachment"),
    path("b/<slug:code>/", views.notice, name="notice"),
    path("b/<slug:code>/apply/", views.apply, name="apply"),
]
