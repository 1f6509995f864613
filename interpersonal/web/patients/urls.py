from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/referrals/new/", views.new_referral, name="new_referral"),
    path("<int:pk>/referrals/<int:referral_pk>/end/", views.end_referral, name="end_referral"),
]
