from django.urls import path

from zhili.geo import tiles_views, views

app_name = "geo"
urlpatterns = [
    path("map/", views.map_view, name="map"),
    path("base/<int:z>/<int:x>/<int:y>.json", tiles_views.base_tile, name="base-tile"),
    path("tiles/<int:z>/<int:x>/<int:y>", tiles_views.archive_tile, name="tiles"),
]
