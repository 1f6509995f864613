from django.apps import AppConfig


class FidelityConfig(AppConfig):
    name = "interpersonal.web.fidelity"
    label = "fidelity"
    verbose_name = "Fidelity: session recordings and adherence ratings"

    def ready(self) -> None:
        from interpersonal.web.fidelity import signals  # noqa: F401 - connects the media deletion
