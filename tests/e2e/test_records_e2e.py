"""Records requests in a real browser: a records officer finds a patient by NHS number, downloads
the subject access PDF (a real PDF holding the record), then erases a duplicate record after a
refusal; axe finds no serious or critical problem on the records pages; a therapist is refused."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from interpersonal.web.audit import chain
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient

from . import axe
from .test_formulation_e2e import at, browser, sign_in  # noqa: F401 - the module-scoped browser fixture

pytestmark = pytest.mark.e2e

NOTES = "Talked about the move to Harrowgate and her sister"


@pytest.fixture
def records(transactional_db, patient, therapist):
    """``patient`` with an attended session and notes, and a duplicate registered in error."""
    from interpersonal.web.courses.actions import record_session, start_course
    from interpersonal.web.patients.actions import register_patient

    course = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                          started_on=timezone.localdate() - dt.timedelta(days=14))
    record_session(course=course, by=therapist, attendance=5, duration_minutes=50, notes=NOTES,
                   scheduled_at=timezone.now() - dt.timedelta(days=7))
    # The therapist dismissed the duplicate warning (said "a different person"): the mistake the
    # records officer's erasure of a duplicate exists for.
    duplicate = register_patient(by=therapist, given_name=patient.given_name, family_name=patient.family_name,
                                 date_of_birth=patient.date_of_birth, received_on=timezone.localdate(),
                                 source="gp", different_person=True)
    start_course(patient=duplicate, protocol="ipt", therapist=therapist, by=therapist)
    return {"patient": patient, "duplicate": duplicate}


def test_records_officer_copies_one_record_and_erases_a_duplicate(
    browser, live_server, records, records_officer, therapist, tmp_path,  # noqa: F811
):
    patient, duplicate = records["patient"], records["duplicate"]
    context, page = sign_in(browser, live_server, records_officer.username, "/")
    page.wait_for_url(at(live_server, "/records/"))
    problems = {"find": axe.violations(page)}

    # -- find by NHS number, typed with spaces
    page.get_by_label("NHS number or local ID").fill("943 476 5919")
    page.get_by_role("button", name="Find the record").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/records/patients/[^/]+/$"))
    assert f"/records/patients/{patient.pk}/" not in page.url  # a link made by the search, never the bare id
    record_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text(patient.full_name)
    problems["record"] = axe.violations(page)

    # -- the subject access PDF
    page.get_by_label("Case reference").fill("SAR-2026-014")
    # Made by the task worker (the live server's immediate backend runs it at once), then downloaded
    page.get_by_role("button", name="Make the PDF copy").click()
    page.wait_for_url(re.compile(rf"{re.escape(record_url)}subject-access/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Subject access copy (PDF), reference SAR-2026-014")
    problems["copy"] = axe.violations(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download subject-access-")).click()
    download = download_info.value
    assert download.suggested_filename == f"subject-access-patient-{patient.pk}-{timezone.localdate():%Y-%m-%d}.pdf"
    pdf = tmp_path / "copy.pdf"
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split())
    for expected in (patient.full_name, "943 476 5919", "SAR-2026-014", NOTES, "Who viewed or changed your record"):
        assert expected in text, expected

    # -- the duplicate: erasing it "on request" is refused while its course is active; "entered in error" is not
    page.goto(f"{live_server.url}/records/")
    page.get_by_label("NHS number or local ID").fill(duplicate.local_id)
    page.get_by_role("button", name="Find the record").click()
    page.get_by_role("link", name="Erase this record…").click()
    problems["erase"] = axe.violations(page)
    page.get_by_label("Erasure request upheld by information governance").check()
    page.get_by_label("Case reference").fill("IG-2026-7")
    page.get_by_label("Type the record's local ID to confirm").fill(duplicate.local_id)
    page.get_by_role("button", name="Erase the record").click()
    expect(page.get_by_role("alert")).to_contain_text("active course of therapy")
    assert Patient.objects.filter(pk=duplicate.pk).exists()

    page.get_by_label("Entered in error or duplicate").check()
    page.get_by_label("Type the record's local ID to confirm").fill(duplicate.local_id)
    page.get_by_role("button", name="Erase the record").click()
    page.wait_for_url(at(live_server, "/records/"))
    expect(page.get_by_text(f"Record {duplicate.local_id} was erased")).to_be_visible()
    assert not Patient.objects.filter(pk=duplicate.pk).exists()
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert AuditEvent.objects.filter(type="patient.erased", patient_id=duplicate.pk).count() == 1
    assert chain.verify() == []
    context.close()

    # -- the patient's own therapist may not use the records pages
    context, page = sign_in(browser, live_server, therapist.username, "/")
    response = page.goto(record_url)
    assert response is not None
    assert response.status == 403
    context.close()

    assert {name: found for name, found in problems.items() if found} == {}, "\n".join(
        f"{name}:\n{axe.describe(found)}" for name, found in problems.items() if found)
