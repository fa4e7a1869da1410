from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from zhili.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Pages that are not ours (the admin's) and clients that ignore <link rel=icon> ask here.
    path("favicon.ico", RedirectView.as_view(url=static("zhili/favicon.svg"), permanent=True),
         name="favicon"),
    path("problems/<slug:code>", views.problem_type, name="problem"),
]
