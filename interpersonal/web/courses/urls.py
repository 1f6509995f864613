from django.urls import path

from . import correction_views, notes_views, views
from .diary import views as diary

app_name = "courses"

urlpatterns = [
    path("caseload/", views.caseload_view, name="caseload"),
    path("service/", views.service, name="service"),
    path("patients/<int:pk>/courses/new/", views.new, name="new"),
    path("courses/<int:pk>/", views.detail, name="detail"),
    path("courses/<int:pk>/sessions/new/", views.record_session, name="record_session"),
    path("courses/<int:pk>/measures/new/", views.record_measure, name="record_measure"),
    path("courses/<int:pk>/tasks/", views.task, name="task"),
    path("courses/<int:pk>/end/", views.end, name="end"),
    path("courses/<int:pk>/step-up/", views.step_up, name="step_up"),
    path("courses/<int:pk>/sessions/<int:session_pk>/correct/", correction_views.correct_session,
         name="correct_session"),
    path("courses/<int:pk>/sessions/<int:session_pk>/delete/", correction_views.delete_session, name="delete_session"),
    path("courses/<int:pk>/measures/<int:measure_pk>/correct/", correction_views.correct_measure,
         name="correct_measure"),
    path("courses/<int:pk>/measures/<int:measure_pk>/delete/", correction_views.delete_measure, name="delete_measure"),
    path("courses/<int:pk>/notes/", notes_views.notes_page, name="notes"),
    path("courses/<int:pk>/contacts/new/", notes_views.record_contact, name="record_contact"),
    path("courses/<int:pk>/contacts/<int:contact_pk>/correct/", notes_views.correct_contact, name="correct_contact"),
    path("courses/<int:pk>/contacts/<int:contact_pk>/delete/", notes_views.delete_contact, name="delete_contact"),
    path("diary/", diary.diary, name="diary"),
    path("diary/feed/", diary.feed_settings, name="diary_feed_settings"),
    path("diary/feed/<str:feed_key>/", diary.feed, name="diary_feed"),
    path("courses/<int:pk>/book/", diary.book, name="book_series"),
    path("courses/<int:pk>/appointments/<int:session_pk>/", diary.appointment, name="appointment"),
]
