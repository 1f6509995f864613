from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "interpersonal.web.supervision"
    label = "supervision"
    verbose_name = "Clinical supervision"
