from django.urls import include, path

from interpersonal.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("interpersonal.web.accounts.urls")),
    path("measures/", include("interpersonal.web.assessments.urls")),
    path("", health.home, name="home"),
]
