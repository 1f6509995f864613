from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "interpersonal.web.patients"
    label = "patients"
