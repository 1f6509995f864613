"""Account pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from interpersonal.web.accounts import actions, mfa
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.forms import EditStaffForm, NewStaffForm, TeamForm
from interpersonal.web.accounts.models import Team
from interpersonal.web.accounts.roles import DESCRIPTIONS, ROLES, Permission, permissions_for
from interpersonal.web.formerrors import add_action_errors

manager = require_permission(Permission.MANAGE_ACCOUNTS)


@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """Who am I, and what may my role do: the simplest signed-in page."""
    user = request.user
    return render(request, "accounts/me.html", {
        "role": ROLES.get(getattr(user, "role", "")),
        "permissions": sorted(DESCRIPTIONS[p] for p in permissions_for(user)),
    })


@require_GET
@manager
def staff(request: HttpRequest) -> HttpResponse:
    """Every member of staff with role, team, supervisor and whether they may sign in."""
    people = get_user_model().objects.select_related("team", "supervisor").order_by("-is_active", "last_name", "username")
    return render(request, "accounts/staff.html", {"people": people, "roles": ROLES})


@require_http_methods(["GET", "POST"])
@manager
def staff_new(request: HttpRequest) -> HttpResponse:
    form = NewStaffForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            actions.create_staff(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("accounts:staff")
    return render(request, "accounts/staff_form.html", {"form": form, "title": "Add a member of staff"},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@manager
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_user_model().objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such member of staff")
    initial = {"first_name": person.first_name, "last_name": person.last_name, "email": person.email,
               "role": person.role, "team": person.team, "supervisor": person.supervisor, "is_active": person.is_active}
    form = EditStaffForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            actions.update_staff(user=person, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("accounts:staff")
    return render(request, "accounts/staff_form.html",
                  {"form": form, "title": f"Edit {person.display_name}", "person": person},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@manager
def teams(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            actions.create_team(name=form.cleaned_data["name"], by=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("accounts:teams")
    all_teams = Team.objects.order_by("name")
    return render(request, "accounts/teams.html", {"form": form, "teams": all_teams}, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: show a new TOTP secret (QR code and text), confirm it with a code.
    Only while the user has no confirmed device — otherwise a stolen password could add one."""
    user = request.user
    if mfa.has_confirmed_device(user):
        return redirect("home" if user.is_verified() else "accounts:mfa_verify")
    device = mfa.pending_device(user)
    form = mfa.CodeForm(request.POST or None)
    if form.is_bound and form.is_valid():
        if mfa.confirm_device(device, form.cleaned_data["code"], by=user):
            otp_login(request, device)
            return redirect(_next_page(request))
        form.add_error("code", "That code is not right. Check the time on your phone and try the newest code.")
    return render(request, "accounts/mfa_setup.html", {
        "form": form, "qr_svg": mfa.qr_svg(device.config_url), "secret": mfa.secret_for_display(device),
    }, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Confirm this session with a code from the user's authenticator app."""
    user = request.user
    if not mfa.has_confirmed_device(user):
        return redirect("accounts:mfa_setup")
    form = mfa.CodeForm(request.POST or None)
    if form.is_bound and form.is_valid():
        device = mfa.verify(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_page(request))
        form.add_error("code", "That code is not right, or too many tries: wait a moment and use the newest code.")
    return render(request, "accounts/mfa_verify.html", {"form": form}, status=400 if form.is_bound else 200)


def _next_page(request: HttpRequest) -> str:
    """Where the page that sent the user to the second factor was: a path on this site only (one
    that starts with "/"; anything else, ``x`` say, would reach ``redirect()`` as a URL name)."""
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("home")
