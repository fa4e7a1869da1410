"""/governance/: the pages of grid governance (see views/)."""

from django.urls import path

from zhili.governance import views

app_name = "governance"
urlpatterns = [
    path("", views.home, name="home"),
    # Residents (and a worker's patrol report, on the same form).
    path("report/", views.report, name="report"),
    path("patrol/", views.patrol, name="patrol"),
    path("report/<str:tracking_no>/done/", views.report_done, name="report_done"),
    path("my/", views.my_cases, name="my_cases"),
    path("my/<str:tracking_no>/", views.my_case, name="my_case"),
    path("my/<str:tracking_no>/rate/", views.my_case_rate, name="my_case_rate"),
    path("my/<str:tracking_no>/reopen/", views.my_case_reopen, name="my_case_reopen"),
    # Grid workers and the street centre.
    path("tasks/", views.tasks, name="tasks"),
    path("queue/", views.queue, name="queue"),
    path("overdue/", views.overdue, name="overdue"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/contact/", views.case_contact, name="case_contact"),
    path("cases/<int:case_id>/<slug:action>/", views.case_action, name="case_action"),
    path("photos/<int:photo_id>/", views.photo, name="photo"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/new/", views.dispute_new, name="dispute_new"),
    path("disputes/<int:dispute_id>/", views.dispute_detail, name="dispute"),
    path("disputes/<int:dispute_id>/<slug:action>/", views.dispute_action, name="dispute_action"),
    # Department officers.
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:task_id>/<slug:action>/", views.task_action, name="task_action"),
    path("figures/", views.figures, name="figures"),
    # Installable, offline.
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("offline/", views.offline, name="offline"),
]
