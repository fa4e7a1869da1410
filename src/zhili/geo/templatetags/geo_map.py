"""`{% basemap_config as cfg %}`: the base map's config for geo/basemap.js (see geo/basemap.html)."""

from django import template

from zhili.geo import basemap

register = template.Library()


@register.simple_tag
def basemap_config() -> dict:
    return basemap.page_config()
