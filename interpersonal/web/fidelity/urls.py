from django.urls import path

from . import views

app_name = "fidelity"

urlpatterns = [
    path("courses/<int:pk>/recordings/", views.course_recordings, name="course_recordings"),
    path("courses/<int:pk>/recordings/consent/", views.give_consent, name="give_consent"),
    path("courses/<int:pk>/recordings/consent/withdraw/", views.withdraw_consent, name="withdraw_consent"),
    path("courses/<int:pk>/recordings/uploads/", views.upload_start, name="upload_start"),
    path("recordings/<int:pk>/chunks/<int:index>", views.upload_chunk, name="upload_chunk"),
    path("recordings/<int:pk>/finish/", views.upload_finish, name="upload_finish"),
    path("recordings/<int:pk>/", views.recording_page, name="recording"),
    path("recordings/<int:pk>/media", views.recording_media, name="recording_media"),
    path("recordings/<int:pk>/raters/", views.assign, name="assign"),
    path("recordings/<int:pk>/hold/", views.hold, name="hold"),
    path("ratings/", views.awaiting, name="awaiting"),
    path("ratings/<int:pk>/", views.rate, name="rate"),
]
