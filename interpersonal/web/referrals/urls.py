"""The front door: the public self-referral form (``refer/``, no login) and the staff referral
inbox (``referrals/``). Mounted at the site root."""

from django.urls import path

from . import views_inbox, views_public

app_name = "referrals"

urlpatterns = [
    path("refer/", views_public.self_refer, name="self_refer"),
    path("refer/thanks/", views_public.thanks, name="self_refer_thanks"),
    path("referrals/", views_inbox.inbox, name="inbox"),
    path("referrals/new/", views_inbox.new, name="new"),
    path("referrals/<int:pk>/", views_inbox.detail, name="detail"),
    path("referrals/<int:pk>/duplicate/", views_inbox.decide_duplicate, name="decide_duplicate"),
]
