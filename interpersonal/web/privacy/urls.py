from django.urls import path

from . import subject_access_pages, views

app_name = "privacy"

urlpatterns = [
    path("", views.find, name="find"),
    path("patients/<str:ref>/", views.patient, name="patient"),
    path("patients/<str:ref>/subject-access/", views.subject_access_copy, name="subject_access"),
    path("patients/<str:ref>/subject-access/<int:document_pk>/", subject_access_pages.progress,
         name="subject_access_progress"),
    path("patients/<str:ref>/subject-access/<int:document_pk>/download/", subject_access_pages.download,
         name="subject_access_download"),
    path("patients/<str:ref>/erase/", views.erase, name="erase"),
    path("retention/", views.retention_due, name="retention"),
]
