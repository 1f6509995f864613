from django.contrib.auth import views as auth_views
from django.urls import path

from interpersonal.web.accounts import views
from interpersonal.web.accounts.forms import SignInForm

app_name = "accounts"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.me, name="me"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("password/", auth_views.PasswordChangeView.as_view(success_url="/accounts/password/done/"), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("staff/", views.staff, name="staff"),
    path("staff/new/", views.staff_new, name="staff_new"),
    path("staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/reset/", views.staff_reset, name="staff_reset"),
    path("staff/<int:pk>/second-factor/", views.staff_reset_mfa, name="staff_reset_mfa"),
    path("staff/<int:pk>/handover/", views.staff_handover, name="staff_handover"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team, name="team"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:pk>/", views.grant, name="grant"),
    path("enrol/<str:key>/", views.enrol, name="enrol"),
]
