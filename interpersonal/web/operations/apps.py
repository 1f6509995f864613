from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "interpersonal.web.operations"
    label = "operations"
    verbose_name = "Operations (backup and restore)"
