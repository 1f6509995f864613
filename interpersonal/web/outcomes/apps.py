from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "interpersonal.web.outcomes"
    label = "outcomes"
    verbose_name = "Service outcomes"
