"""Screening, suitability and triage of a referral; the service's suitability rules."""

from django.urls import path

from . import views_screening as views

app_name = "screening"

urlpatterns = [
    path("referrals/<int:pk>/screening/", views.referral_page, name="referral"),
    path("referrals/<int:pk>/screening/contact/", views.contact, name="contact"),
    path("referrals/<int:pk>/screening/send/", views.send, name="send"),
    path("referrals/<int:pk>/screening/links/<int:link_pk>/withdraw/", views.withdraw, name="withdraw"),
    path("referrals/<int:pk>/screening/alerts/<int:alert_pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("referrals/<int:pk>/screening/decide/", views.decide, name="decide"),
    path("referrals/<int:pk>/triage/", views.triage, name="triage"),
    path("suitability-rules/", views.rules, name="rules"),
    path("suitability-rules/new/", views.rule_new, name="rule_new"),
    path("suitability-rules/<int:pk>/", views.rule_edit, name="rule_edit"),
]
