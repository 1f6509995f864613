from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "interpersonal.web.documents"
    label = "documents"

    def ready(self) -> None:
        from interpersonal.web.documents import signals  # noqa: F401 - connects the file clean-up
