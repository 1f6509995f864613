"""Patient pages under ``q/<token>/`` (no login: the token is the credential) and the
clinician's pages under a course. Mounted at the site root."""

from django.urls import path

from . import views

app_name = "questionnaires"

urlpatterns = [
    path("q/<str:token>/", views.start, name="start"),
    path("q/<str:token>/all/", views.all_questions, name="all"),
    path("q/<str:token>/review/", views.review, name="review"),
    path("q/<str:token>/submit/", views.submit, name="submit"),
    path("q/<str:token>/done/", views.done, name="done"),
    path("q/<str:token>/<slug:instrument>/<str:item>/", views.question, name="question"),
    path("courses/<int:pk>/questionnaires/", views.link_list, name="list"),
    path("courses/<int:pk>/questionnaires/new/", views.send, name="send"),
    path("courses/<int:pk>/questionnaires/<int:link_pk>/withdraw/", views.withdraw, name="withdraw"),
    path("courses/<int:pk>/questionnaires/<int:link_pk>/send/", views.resend, name="resend"),
]
