from django.urls import path

from zhili.emergency import views, views_incidents

app_name = "emergency"
urlpatterns = [
    path("", views.coverage, name="coverage"),
    path("resources/", views.resource_list, name="resources"),
    path("layers/resources.geojson", views.layer_resources, name="layer_resources"),
    path("layers/circles.geojson", views.layer_circles, name="layer_circles"),
    path("incidents/", views_incidents.board, name="incidents"),
    path("incidents/open", views_incidents.open_incident, name="incident_open"),
    path("incidents/<str:number>/", views_incidents.detail, name="incident"),
    path("incidents/<str:number>/<str:verb>", views_incidents.act, name="incident_act"),
    path("layers/incidents.geojson", views_incidents.layer_incidents, name="layer_incidents"),
]
