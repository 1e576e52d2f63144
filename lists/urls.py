from django.urls import path

from . import apis

app_name = "lists"
urlpatterns = [
    path("lists", apis.ListListCreateApi.as_view(), name="list"),
    path("lists/<str:list_id>", apis.ListDetailApi.as_view(), name="detail"),
]
