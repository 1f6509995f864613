from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "interpersonal.web.service"
    label = "service"
    verbose_name = "Waiting list and service operations"
