from django.urls import path

from zhili.warning import views

app_name = "warning"
urlpatterns = [
    path("layers/points.geojson", views.layer_points, name="layer_points"),
]
