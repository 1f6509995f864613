from django.urls import path

from . import views

app_name = "letters"

urlpatterns = [
    path("courses/<int:pk>/letters/", views.letter_list, name="list"),
    path("courses/<int:pk>/letters/new/", views.new, name="new"),
    path("letters/<int:pk>/", views.edit, name="edit"),
    path("letters/<int:pk>/finalise/", views.finalise, name="finalise"),
    path("letters/<int:pk>/new-version/", views.new_version, name="new_version"),
    path("letters/<int:pk>/pdf/", views.request_pdf, name="pdf"),
    path("letters/<int:pk>/pdf/<int:document_pk>/", views.pdf_progress, name="pdf_progress"),
    path("letters/<int:pk>/pdf/<int:document_pk>/download/", views.pdf_download, name="pdf_download"),
]
