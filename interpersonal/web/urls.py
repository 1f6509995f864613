from django.urls import include, path

from interpersonal.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("interpersonal.web.accounts.urls")),
    path("", include("interpersonal.web.assessments.urls")),
    path("patients/", include("interpersonal.web.patients.urls")),
    path("", include("interpersonal.web.referrals.urls")),
    path("audit/", include("interpersonal.web.audit.urls")),
    path("records/", include("interpersonal.web.privacy.urls")),
    path("", include("interpersonal.web.courses.urls")),
    path("", include("interpersonal.web.questionnaires.urls")),
    path("", include("interpersonal.web.formulation.urls")),
    path("", include("interpersonal.web.letters.urls")),
    path("", include("interpersonal.web.outcomes.urls")),
    path("", include("interpersonal.web.referrals.urls_screening")),
    path("", include("interpersonal.web.service.urls")),
    path("supervision/", include("interpersonal.web.supervision.urls")),
    path("fidelity/", include("interpersonal.web.fidelity.urls")),
    path("", health.home, name="home"),
]
