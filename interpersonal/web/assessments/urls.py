from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("<slug:instrument_id>/", views.detail, name="detail"),
    path("<slug:instrument_id>/score/", views.score, name="score"),
]
