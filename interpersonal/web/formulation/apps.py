from django.apps import AppConfig


class FormulationConfig(AppConfig):
    name = "interpersonal.web.formulation"
    label = "formulation"
