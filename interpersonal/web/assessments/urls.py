from django.urls import path

from . import risk_views, views

app_name = "assessments"

urlpatterns = [
    path("measures/", views.catalogue, name="catalogue"),
    path("measures/<slug:instrument_id>/", views.detail, name="detail"),
    path("measures/<slug:instrument_id>/score/", views.score, name="score"),
    path("alerts/<int:pk>/", risk_views.alert_detail, name="alert"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="acknowledge_alert"),
    path("courses/<int:pk>/risk/", risk_views.risk_page, name="risk"),
    path("courses/<int:pk>/risk/new/", risk_views.record, name="risk_new"),
    path("courses/<int:pk>/risk/safety-plan/", risk_views.safety_plan, name="safety_plan"),
]
