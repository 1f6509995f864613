from django.urls import path

from interpersonal.web.service import views

app_name = "service"
urlpatterns = [
    # The service lead: the whole service, referrals by number only.
    path("service/waiting/", views.waiting_list, name="waiting"),
    path("service/waiting/<str:slug>/", views.queue, name="queue"),
    path("service/opt-in/", views.opt_in, name="opt_in"),
    path("service/operations/", views.operations_view, name="operations"),
    path("service/costs/", views.costs_settings, name="costs"),
    path("service/staff/<int:pk>/", views.staff_profile, name="staff_profile"),
    # A clinician's own waiting list.
    path("waiting/", views.my_waiting, name="my_waiting"),
    path("waiting/discharge/", views.discharge, name="discharge"),
    path("waiting/<int:pk>/invite/", views.invite, name="invite"),
    path("waiting/<int:pk>/letter/", views.letter, name="letter"),
    path("waiting/<int:pk>/opted-in/", views.opted_in, name="opted_in"),
]
