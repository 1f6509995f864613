from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "interpersonal.web.privacy"
    label = "privacy"
    verbose_name = "Privacy: field classification and research export"
