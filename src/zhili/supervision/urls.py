from django.urls import path

from zhili.supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("rankings/", views.rankings, name="rankings"),
    path("rankings/<slug:rule_code>/", views.rankings, name="ranking"),
    path("rankings/<slug:rule_code>/<str:area_code>/", views.breakdown, name="breakdown"),
]
