from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "interpersonal.web.privacy"
    label = "privacy"
    verbose_name = "Privacy: field classification and research export"

    def ready(self) -> None:
        from interpersonal.web.privacy import checks  # noqa: F401 - registers the system checks
