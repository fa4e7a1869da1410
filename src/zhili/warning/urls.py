from django.urls import path

from zhili.warning import views

app_name = "warning"
urlpatterns = [
    path("", views.warning_list, name="list"),
    path("w/<str:number>/", views.warning_detail, name="detail"),
    path("layers/points.geojson", views.layer_points, name="layer_points"),
]
