from django.urls import path

from . import apis

app_name = "quotas"
urlpatterns = [path("quotas", apis.QuotaApi.as_view(), name="detail")]
