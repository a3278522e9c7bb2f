from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Records: retention and subject access"
    default_auto_field = "django.db.models.BigAutoField"
