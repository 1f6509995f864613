from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.find, name="find"),
    path("patients/<int:pk>/", views.patient, name="patient"),
    path("patients/<int:pk>/subject-access/", views.subject_access_copy, name="subject_access"),
    path("patients/<int:pk>/erase/", views.erase, name="erase"),
    path("retention/", views.retention_due, name="retention"),
]
