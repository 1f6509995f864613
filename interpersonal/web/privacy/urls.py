from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.find, name="find"),
    path("patients/<str:ref>/", views.patient, name="patient"),
    path("patients/<str:ref>/subject-access/", views.subject_access_copy, name="subject_access"),
    path("patients/<str:ref>/erase/", views.erase, name="erase"),
    path("retention/", views.retention_due, name="retention"),
]
