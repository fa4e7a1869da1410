from django.urls import path

from zhili.flood import views

app_name = "flood"
urlpatterns = [
    path("", views.model_list, name="list"),
    path("m/<int:model_id>/", views.model_detail, name="model"),
    path("m/<int:model_id>/run", views.run_create, name="run_create"),
    path("r/<int:run_id>/", views.run_detail, name="run"),
    path("r/<int:run_id>/status", views.run_status, name="run_status"),
    path("r/<int:run_id>/nodes.geojson", views.run_nodes, name="run_nodes"),
    path("layers/flooded.geojson", views.layer_flooded, name="layer_flooded"),
]
