from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "zhili.geo"
    label = "geo"
    verbose_name = "City geography"
