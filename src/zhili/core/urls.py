from django.urls import path

from zhili.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("problems/<slug:code>", views.problem_type, name="problem"),
]
