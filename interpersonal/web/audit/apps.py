from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "interpersonal.web.audit"
    label = "audit"
    verbose_name = "Audit trail"
