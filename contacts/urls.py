from django.urls import path

from . import apis

app_name = "contacts"
urlpatterns = [
    path("contacts/bulk", apis.ContactBulkCreateApi.as_view(), name="bulk-create"),
    path("contacts/bulk/<str:job_id>", apis.BulkJobDetailApi.as_view(), name="bulk-job-detail"),
    path("contacts", apis.ContactListApi.as_view(), name="list"),
    path("contacts/<str:contact_id>", apis.ContactDetailApi.as_view(), name="detail"),
]
