from django.urls import path

from zhili.core.tests.plugin_app import views

app_name = "lamps"
urlpatterns = [
    path("", views.lamp_list, name="list"),
    path("lamps.geojson", views.lamps_geojson, name="geojson"),
]
