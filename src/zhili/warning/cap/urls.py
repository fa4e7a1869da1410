from django.urls import path

from zhili.warning.cap import views

app_name = "cap"
urlpatterns = [
    path("feed.xml", views.feed, name="feed"),
    path("alerts/<str:identifier>.xml", views.alert, name="alert"),
]
