from django.urls import path

from zhili.cockpit import views

app_name = "cockpit"
urlpatterns = [
    path("", views.map_view, name="map"),
    path("layers/cases.geojson", views.layer_cases, name="layer_cases"),
    path("layers/workers.geojson", views.layer_workers, name="layer_workers"),
    path("figures.json", views.figures, name="figures"),
    path("events", views.events, name="events"),
    path("stream", views.stream, name="stream"),
]
