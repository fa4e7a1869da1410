from django.urls import path

from zhili.emergency import views

app_name = "emergency"
urlpatterns = [
    path("", views.coverage, name="coverage"),
    path("resources/", views.resource_list, name="resources"),
    path("layers/resources.geojson", views.layer_resources, name="layer_resources"),
    path("layers/circles.geojson", views.layer_circles, name="layer_circles"),
]
