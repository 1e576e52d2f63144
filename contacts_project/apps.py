from django.apps import AppConfig


class ContactsProjectConfig(AppConfig):
    name = "contacts_project"
    verbose_name = "Contacts service"
