from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "interpersonal.web.assessments"
    label = "assessments"
    verbose_name = "Assessments"
