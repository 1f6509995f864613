"""Account pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from interpersonal.web.accounts import actions, enrolment, mfa
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.forms import (
    DecisionForm,
    EditStaffForm,
    EnrolmentForm,
    HandoverForm,
    NewStaffForm,
    RenameTeamForm,
    ResetSecondFactorForm,
    ResetSignInForm,
    TeamForm,
)
from interpersonal.web.accounts.models import AccessGrant, Team
from interpersonal.web.accounts.roles import DESCRIPTIONS, ROLES, Permission, has_permission, permissions_for
from interpersonal.web.formerrors import add_action_errors, posted_version

manager = require_permission(Permission.MANAGE_ACCOUNTS)


def _sees_grants(user: Any) -> bool:
    """Who may list access grants: administrators (who ask), clinical confirmers (who decide), the
    service lead (who is told) and the superuser. The list names accounts and roles, nothing clinical."""
    return bool(getattr(user, "is_superuser", False) and user.is_active) or any(
        has_permission(user, p) for p in (Permission.MANAGE_ACCOUNTS, Permission.CONFIRM_ACCESS_GRANTS,
                                          Permission.VIEW_SERVICE_AGGREGATES))


def _decides_grants(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active) or has_permission(
        user, Permission.CONFIRM_ACCESS_GRANTS)


def _done(request: HttpRequest, result: actions.StaffResult, title: str) -> HttpResponse:
    """What an account change did: the enrolment link to pass on (shown this once), or the grant
    that now waits for a clinical confirmation."""
    link = request.build_absolute_uri(reverse("accounts:enrol", args=[result.token])) if result.token else None
    return render(request, "accounts/staff_done.html", {
        "title": title, "person": result.user, "grant": result.grant, "link": link, "code": result.code,
        "valid_hours": int(enrolment.VALID_FOR.total_seconds() // 3600),
    })


@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """Who am I, and what may my role do: the simplest signed-in page."""
    from interpersonal.web.supervision.reach import current_relationships

    user = request.user
    return render(request, "accounts/me.html", {
        "supervisors": current_relationships().filter(supervisee_id=user.pk).select_related("supervisor"),
        "role": ROLES.get(getattr(user, "role", "")),
        "permissions": sorted(DESCRIPTIONS[p] for p in permissions_for(user)),
    })


@require_GET
@manager
def staff(request: HttpRequest) -> HttpResponse:
    """Every member of staff with role, team, supervisor and whether they may sign in."""
    from django.db.models import Prefetch

    from interpersonal.web.supervision.reach import current_relationships

    people = (get_user_model().objects.select_related("team").order_by("-is_active", "last_name", "username")
              .prefetch_related(Prefetch("supervised_by", to_attr="current_supervision",
                                         queryset=current_relationships().select_related("supervisor"))))
    return render(request, "accounts/staff.html", {"people": people, "roles": ROLES})


@require_http_methods(["GET", "POST"])
@manager
def staff_new(request: HttpRequest) -> HttpResponse:
    form = NewStaffForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            result = actions.create_staff(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return _done(request, result, f"{result.user.display_name} added")
    return render(request, "accounts/staff_form.html", {"form": form, "title": "Add a member of staff"},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@manager
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_user_model().objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such member of staff")
    initial = {"first_name": person.first_name, "last_name": person.last_name, "email": person.email,
               "role": person.role, "team": person.team, "supervisor": person.individual_supervisor,
               "is_active": person.is_active}
    form = EditStaffForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            result = actions.update_staff(user=person, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if result.grant is None:
                return redirect("accounts:staff")
            return _done(request, result, f"{person.display_name}: change saved, access waits for confirmation")
    return render(request, "accounts/staff_form.html",
                  {"form": form, "title": f"Edit {person.display_name}", "person": person,
                   "supervision": supervision_history(person)},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@manager
def staff_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset someone's sign-in: their password and authenticator app stop working; a one-time link
    lets them set both again (for a clinical account, once a clinician confirms)."""
    person = get_user_model().objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such member of staff")
    form = ResetSignInForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            result = actions.reset_sign_in(user=person, by=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return _done(request, result, f"Sign-in reset for {person.display_name}")
    return render(request, "accounts/staff_reset.html", {"form": form, "person": person},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@manager
def staff_reset_mfa(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove someone's authenticator app (a lost phone; they still know their password): they set
    up a new one at their next sign-in (for a clinical account, once a second person confirms)."""
    person = get_user_model().objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such member of staff")
    form = ResetSecondFactorForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            result = actions.reset_second_factor(user=person, by=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if result.grant is not None:
                return _done(request, result, f"Removal of {person.display_name}'s authenticator app requested")
            return render(request, "accounts/staff_done.html", {
                "title": f"Authenticator app removed for {person.display_name}", "person": person,
                "second_factor_removed": True,
            })
    return render(request, "accounts/staff_reset_mfa.html", {
        "form": form, "person": person, "devices": mfa.device_count(person),
    }, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@manager
def staff_handover(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand someone's caseload over to another clinician (once a second person confirms). The page
    shows how many cases would move, never whose: administrators see no clinical content."""
    person = get_user_model().objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such member of staff")
    form = HandoverForm(request.POST or None, exclude=person)
    if form.is_bound and form.is_valid():
        try:
            result = actions.hand_over_caseload(from_therapist=person, to_therapist=form.cleaned_data["to_therapist"],
                                                by=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if result.grant is not None:
                return _done(request, result, f"Hand-over of {person.display_name}'s caseload requested")
            return redirect("accounts:staff")
    counts = {name: qs.count() for name, qs in actions.handover_scope(person).items()}
    return render(request, "accounts/staff_handover.html", {"form": form, "person": person, "counts": counts},
                  status=400 if form.is_bound else 200)


@require_GET
def grants(request: HttpRequest) -> HttpResponse:
    """Requests to widen anyone's reach into patient records: pending first, then decided."""
    if not _sees_grants(request.user):
        raise PermissionDenied("Your role does not give access to this page.")
    rows = AccessGrant.objects.select_related("user", "supervisor", "requested_by", "decided_by")
    pending = list(rows.filter(status=AccessGrant.Status.PENDING))
    decided = list(rows.exclude(status=AccessGrant.Status.PENDING)[:100])
    return render(request, "accounts/grants.html", {
        "pending": [(g, actions.may_decide(request.user, g)) for g in pending], "decided": decided,
    })


def supervision_history(person: Any) -> list[Any]:
    """Every supervision relationship of ``person`` as supervisee, current and past (staff names,
    kinds and dates: nothing clinical), newest first."""
    from interpersonal.web.supervision.models import SupervisionRelationship

    return list(SupervisionRelationship.objects.filter(supervisee=person).select_related("supervisor")
                .order_by("-started", "-pk"))


def _changes(item: AccessGrant) -> list[dict[str, Any]]:
    """Role, supervisor and sign-in: now, as asked for, and whether the request changes each."""
    user = item.user
    individual = user.individual_supervisor

    def role(value: str) -> str:
        return str(ROLES[value].role.label) if value in ROLES else "No role"

    def person(value: Any) -> str:
        return value.display_name if value is not None else "None"

    return [
        {"label": "Role", "now": role(user.role), "asked": role(item.role), "changes": user.role != item.role},
        {"label": "Supervisor", "now": person(individual), "asked": person(item.supervisor),
         "changes": getattr(individual, "pk", None) != item.supervisor_id},
        {"label": "May sign in", "now": "Yes" if user.is_active else "No", "asked": "Yes" if item.is_active else "No",
         "changes": user.is_active != item.is_active},
    ]


@require_http_methods(["GET", "POST"])
def grant(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: what it would change, now against asked for; a confirmer confirms or declines
    it. Whoever may list requests (the service lead, who is told; administrators) may read it."""
    if not _sees_grants(request.user):
        raise PermissionDenied("Your role does not give access to this page.")
    item = (AccessGrant.objects.select_related("user", "supervisor", "relationship", "requested_by", "decided_by")
            .filter(pk=pk).first())
    if item is None:
        raise Http404("No such request")
    form = DecisionForm(request.POST or None)
    if form.is_bound:
        if not actions.may_decide(request.user, item):
            raise PermissionDenied("You cannot decide a request you made, or one that gives you access.")
        if form.is_valid():
            try:
                if form.cleaned_data["decision"] == "confirm":
                    result = actions.confirm_grant(grant=item, by=request.user)
                    return _done(request, result, f"Confirmed: {item.user.display_name}")
                actions.decline_grant(grant=item, by=request.user)
                return redirect("accounts:grants")
            except ValidationError as exc:
                add_action_errors(form, exc)
    return render(request, "accounts/grant.html", {
        "item": item, "form": form, "may_decide": actions.may_decide(request.user, item),
        "changes": _changes(item), "decides_grants": _decides_grants(request.user),
    }, status=400 if form.is_bound else 200)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, key: str) -> HttpResponse:
    """A one-time enrolment link: the holder sets their own password, then signs in and enrols
    their authenticator app. An unknown, used or expired link is a kind 404."""
    link = enrolment.valid_link(key)
    if link is None:
        return render(request, "accounts/enrol_invalid.html", status=404)
    form = EnrolmentForm(link.user, request.POST or None, needs_code=bool(link.code_hash))
    if form.is_bound and form.is_valid():
        try:
            actions.complete_enrolment(token=key, password=form.cleaned_data["new_password1"],
                                       code=form.cleaned_data.get("code", ""), by=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return render(request, "accounts/enrol_done.html", {"username": link.user.get_username()})
    return render(request, "accounts/enrol.html", {"form": form, "username": link.user.get_username()},
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
@manager
def team(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a team, or retire it (no new members; its members keep working) or bring it back."""
    item = Team.objects.filter(pk=pk).first()
    if item is None:
        raise Http404("No such team")
    form = RenameTeamForm(request.POST if request.POST.get("action") == "rename" else None,
                          initial={"name": item.name, "version": item.version})
    stale, errors = False, []
    if request.method == "POST":
        try:
            if form.is_bound:
                if form.is_valid():
                    actions.rename_team(team=item, name=form.cleaned_data["name"], by=request.user,
                                        expected_version=form.cleaned_data["version"])
                    return redirect("accounts:teams")
            elif request.POST.get("action") in ("retire", "reinstate"):
                actions.retire_team(team=item, by=request.user, retired=request.POST["action"] == "retire",
                                    expected_version=posted_version(request.POST.get("version")) or 0)
                return redirect("accounts:team", item.pk)
            else:
                raise ValidationError("Choose what to do: rename, retire or bring back.")
        except ValidationError as exc:
            stale = not hasattr(exc, "error_dict") and "Someone else" in " ".join(exc.messages)
            if form.is_bound:
                add_action_errors(form, exc)
            else:
                errors = exc.messages
    item.refresh_from_db()
    members = list(item.members.order_by("last_name", "username"))
    return render(request, "accounts/team.html", {
        "team": item, "form": form, "members": members, "stale": stale, "errors": errors,
    }, status=400 if request.method == "POST" else 200)


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
