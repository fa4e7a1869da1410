from django.urls import path

from zhili.warning import views, views_people

app_name = "warning"
urlpatterns = [
    path("", views.warning_list, name="list"),
    path("w/<str:number>/", views.warning_detail, name="detail"),
    path("w/<str:number>/cancel/", views.warning_cancel_view, name="cancel"),
    path("raise/", views.warning_raise_view, name="raise"),
    path("mine/", views_people.mine, name="mine"),
    path("r/<str:token>/", views_people.responder, name="responder"),
    path("layers/points.geojson", views.layer_points, name="layer_points"),
]
