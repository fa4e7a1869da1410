from django.urls import path

from zhili.supervision.views import dashboard, problems, reports

app_name = "supervision"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("rankings/", dashboard.rankings, name="rankings"),
    path("rankings/<slug:rule_code>/", dashboard.rankings, name="ranking"),
    path("rankings/<slug:rule_code>/<str:area_code>/", dashboard.breakdown, name="breakdown"),
    path("reports/", reports.report_archive, name="reports"),
    path("reports/regenerate/", reports.report_regenerate, name="report_regenerate"),
    path("reports/<int:report_id>/", reports.report_view, name="report"),
    path("reports/<int:report_id>/pdf/", reports.report_pdf, name="report_pdf"),
    path("reports/<int:report_id>/csv/", reports.report_csv, name="report_csv"),
    path("reports/series/<int:series_id>/", reports.series_view, name="series"),
    path("reports/series/<int:series_id>/subscribe/", reports.series_subscribe,
         name="series_subscribe"),
    path("reports/series/<int:series_id>/unsubscribe/", reports.series_unsubscribe,
         name="series_unsubscribe"),
    path("reports/series/<int:series_id>/own/", reports.series_own, name="series_own"),
    path("problems/", problems.problem_list, name="problems"),
    path("problems/raise/", problems.problem_raise, name="problem_raise"),
    path("problems/evidence/<int:evidence_id>/", problems.evidence_file, name="evidence"),
    path("problems/<str:number>/", problems.problem_detail, name="problem"),
    path("problems/<str:number>/<str:action>/", problems.problem_act, name="problem_act"),
]
