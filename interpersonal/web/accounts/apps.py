from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "interpersonal.web.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from interpersonal.web.accounts import signals

        signals.connect()
