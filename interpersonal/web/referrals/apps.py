from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "interpersonal.web.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from interpersonal.web.referrals import pathway_panel

        pathway_panel.register()
