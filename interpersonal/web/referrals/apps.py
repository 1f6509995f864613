from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "interpersonal.web.referrals"
    label = "referrals"
    verbose_name = "Referrals"
