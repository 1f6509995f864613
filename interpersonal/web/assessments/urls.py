from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("measures/", views.catalogue, name="catalogue"),
    path("measures/<slug:instrument_id>/", views.detail, name="detail"),
    path("measures/<slug:instrument_id>/score/", views.score, name="score"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="acknowledge_alert"),
]
