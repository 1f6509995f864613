"""Every model field in the database, classified (STYLE.md 8; docs/privacy.md).

``FIELDS`` maps ``"app_label.Model.field"`` to a :class:`Class`, for the project's models and
for every installed third-party model (auth, contenttypes, sessions, tasks, OTP, axes). A test
(tests/web/privacy/test_classification.py) fails on any field of an installed model that is
missing here, and on any entry naming a field that no longer exists, so a new field cannot
reach an export before someone has decided what it is. The research export
(:mod:`interpersonal.web.privacy.export`) is driven by this table:

* ``IDENTIFYING`` - dropped. Names, NHS number, date of birth, contact details, GP practice,
  usernames, credentials and token hashes, and every free-text field (a clinician or patient
  may write a name, a place or an event anyone could recognise into any of them).
* ``PSEUDONYMOUS`` - primary and foreign keys: replaced by a keyed hash.
* ``DATE`` - dates and times: shifted by the patient's own offset (intervals preserved).
* ``SAFE`` - codes, totals, booleans, protocol/measure ids, answers as item values: unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Class(StrEnum):
    IDENTIFYING = "identifying"
    PSEUDONYMOUS = "pseudonymous"
    DATE = "date"
    SAFE = "safe"


ID, P, D, S = Class.IDENTIFYING, Class.PSEUDONYMOUS, Class.DATE, Class.SAFE

FIELDS: dict[str, Class] = {
    # --- accounts ------------------------------------------------------------------------
    "accounts.Team.id": P,
    "accounts.Team.name": ID,  # a team name can locate a service and its staff
    "accounts.Team.created_at": D,
    "accounts.Team.retired_at": D,
    "accounts.Team.version": S,
    "accounts.User.id": P,
    "accounts.User.password": ID,  # a credential: never leaves the database
    "accounts.User.last_login": D,
    "accounts.User.is_superuser": S,
    "accounts.User.username": ID,
    "accounts.User.first_name": ID,
    "accounts.User.last_name": ID,
    "accounts.User.email": ID,
    "accounts.User.is_staff": S,
    "accounts.User.is_active": S,
    "accounts.User.date_joined": D,
    "accounts.User.role": S,
    "accounts.User.team": P,
    "accounts.User.groups": P,
    "accounts.User.user_permissions": P,
    "accounts.User.created_by_demo": S,
    "accounts.AccessGrant.id": P,
    "accounts.AccessGrant.kind": S,
    "accounts.AccessGrant.status": S,
    "accounts.AccessGrant.user": P,
    "accounts.AccessGrant.role": S,
    "accounts.AccessGrant.supervisor": P,
    "accounts.AccessGrant.relationship": P,
    "accounts.AccessGrant.is_active": S,
    "accounts.AccessGrant.handover_from": P,
    "accounts.AccessGrant.requested_by": P,
    "accounts.AccessGrant.requested_at": D,
    "accounts.AccessGrant.decided_by": P,
    "accounts.AccessGrant.decided_at": D,
    "accounts.EnrolmentLink.id": P,
    "accounts.EnrolmentLink.user": P,
    "accounts.EnrolmentLink.token_hash": ID,  # a credential's hash: never leaves the database
    "accounts.EnrolmentLink.code_hash": ID,  # a credential's HMAC: never leaves the database
    "accounts.EnrolmentLink.wrong_codes": S,
    "accounts.AccessGrant.code_hash": ID,  # a credential's HMAC: never leaves the database
    "accounts.EnrolmentLink.created_at": D,
    "accounts.EnrolmentLink.expires_at": D,
    "accounts.EnrolmentLink.used_at": D,
    # --- audit (snapshots of the actor; ids are not foreign keys but are keys all the same) -----
    "audit.AuditEvent.id": P,
    "audit.AuditEvent.at": D,
    "audit.AuditEvent.type": S,
    "audit.AuditEvent.actor_id": P,
    "audit.AuditEvent.actor_username": ID,
    "audit.AuditEvent.actor_role": S,
    "audit.AuditEvent.target_type": S,
    "audit.AuditEvent.target_id": P,
    "audit.AuditEvent.patient_id": P,
    "audit.AuditEvent.data": ID,  # holds raw ids and field names nested in JSON: not pseudonymisable as is
    "audit.AuditEvent.seq": P,  # the event's place in the chain: a trail-wide counter, like the id
    # The hash chain's digests are deterministic over the event (username included), so a
    # guessed event could be confirmed against them: treated like the token hashes.
    "audit.AuditEvent.previous_hash": ID,
    "audit.AuditEvent.hash": ID,
    # --- patients --------------------------------------------------------------------------
    "patients.Patient.id": P,
    "patients.Patient.local_id": ID,  # printed on letters and screens: an identifier in the clinic
    "patients.Patient.given_name": ID,
    "patients.Patient.family_name": ID,
    "patients.Patient.date_of_birth": ID,  # exported only as age at each referral in whole years
    "patients.Patient.nhs_number": ID,
    "patients.Patient.phone": ID,
    "patients.Patient.email": ID,
    "patients.Patient.address": ID,
    "patients.Patient.gp_practice": ID,  # with age and dates, narrows to a handful of people
    "patients.Patient.therapist": P,
    # The NHS Talking Therapies data set's person characteristics: national codes and yes/no flags,
    # submitted nationally as they are (core.demographics). Special-category data (UK GDPR Art. 9),
    # but coded, with no free text; small groups are the report's to suppress, as for every code.
    "patients.Patient.gender_identity": S,
    "patients.Patient.ethnic_category": S,
    "patients.Patient.preferred_language": S,
    "patients.Patient.interpreter_required": S,
    "patients.Patient.disabilities": S,
    "patients.Patient.employment_status": S,
    "patients.Patient.contact_by_phone": S,
    "patients.Patient.contact_by_sms": S,
    "patients.Patient.contact_by_email": S,
    "patients.Patient.contact_by_letter": S,
    "patients.Patient.created_at": D,
    "patients.Patient.updated_at": D,
    "patients.Patient.version": S,
    # --- referrals -------------------------------------------------------------------------
    "referrals.Referral.id": P,
    "referrals.Referral.patient": P,
    "referrals.Referral.source": S,
    "referrals.Referral.referrer": ID,  # names a person and a practice
    "referrals.Referral.received_on": D,
    "referrals.Referral.presenting_problem": ID,  # free text in the referrer's or patient's words
    "referrals.Referral.problem_descriptor": S,  # an ICD-10 code
    "referrals.Referral.status": S,
    "referrals.Referral.step": S,
    "referrals.Referral.therapy": S,
    "referrals.Referral.triage_reason": ID,  # free text
    "referrals.Referral.patient_preference": ID,  # free text
    "referrals.Referral.triaged_by": P,
    "referrals.Referral.triaged_at": D,
    "referrals.Referral.therapist": P,
    "referrals.Referral.ended_on": D,
    "referrals.Referral.end_reason": S,
    "referrals.Referral.created_at": D,
    "referrals.Referral.updated_at": D,
    "referrals.Referral.version": S,
    # A service's suitability rules: configuration, no patient (free text is ID by the house rule).
    "referrals.SuitabilityRule.id": P,
    "referrals.SuitabilityRule.name": S,
    "referrals.SuitabilityRule.kind": S,
    "referrals.SuitabilityRule.params": S,
    "referrals.SuitabilityRule.outcome": S,
    "referrals.SuitabilityRule.message": ID,
    "referrals.SuitabilityRule.description": ID,
    "referrals.SuitabilityRule.source": S,
    "referrals.SuitabilityRule.confirmed": S,
    "referrals.SuitabilityRule.active": S,
    "referrals.SuitabilityRule.position": S,
    "referrals.SuitabilityRule.created_at": D,
    "referrals.SuitabilityRule.updated_at": D,
    "referrals.SuitabilityRule.version": S,
    "referrals.ScreeningDecision.id": P,
    "referrals.ScreeningDecision.referral": P,
    "referrals.ScreeningDecision.decision": S,
    "referrals.ScreeningDecision.reason": ID,  # free text
    "referrals.ScreeningDecision.suggestion": S,
    "referrals.ScreeningDecision.fired_rule_ids": S,  # ids of the service's rules, not of anyone
    "referrals.ScreeningDecision.findings": ID,  # sentences naming the age and the descriptor
    "referrals.ScreeningDecision.phq9_item9": S,
    "referrals.ScreeningDecision.clinician_risk": S,
    "referrals.ScreeningDecision.under_secondary_care": S,
    "referrals.ScreeningDecision.problem_descriptor": S,  # an ICD-10 code
    "referrals.ScreeningDecision.end_reason": S,
    "referrals.ScreeningDecision.decided_by": P,
    "referrals.ScreeningDecision.decided_at": D,
    "referrals.Triage.id": P,
    "referrals.Triage.referral": P,
    "referrals.Triage.step": S,
    "referrals.Triage.therapy": S,
    "referrals.Triage.reason": ID,  # free text
    "referrals.Triage.preferred_therapy": S,  # a protocol id or "no_preference"
    "referrals.Triage.preference": ID,  # free text
    "referrals.Triage.therapist": P,
    "referrals.Triage.phq9_total": S,
    "referrals.Triage.severity": S,
    "referrals.Triage.by": P,
    "referrals.Triage.at": D,
    "referrals.SelfReferral.id": P,
    "referrals.SelfReferral.referral": P,
    "referrals.SelfReferral.reference": ID,  # the person quotes it on the phone: it finds them
    "referrals.SelfReferral.submitted_at": D,
    "referrals.SelfReferral.contact_method": S,
    "referrals.SelfReferral.leave_message": S,
    "referrals.SelfReferral.consented_at": D,
    "referrals.SelfReferral.nhs_number_given": ID,
    "referrals.SelfReferral.duplicate_of": P,  # another patient's id (not a foreign key)
    "referrals.SelfReferral.duplicate_match": S,
    "referrals.SelfReferral.duplicate": S,
    "referrals.SelfReferral.duplicate_decided_by": P,
    "referrals.SelfReferral.duplicate_decided_at": D,
    "referrals.SelfReferral.version": S,
    "referrals.SelfReferralAttempt.id": P,
    "referrals.SelfReferralAttempt.client": ID,  # an HMAC of a client address: still personal data
    "referrals.SelfReferralAttempt.at": D,
    # --- courses ---------------------------------------------------------------------------
    "courses.Course.referral": P,
    "courses.Course.id": P,
    "courses.Course.patient": P,
    "courses.Course.protocol": S,
    "courses.Course.therapist": P,
    "courses.Course.planned_sessions": S,
    "courses.Course.started_on": D,
    "courses.Course.status": S,
    "courses.Course.ended_on": D,
    "courses.Course.end_reason": S,
    "courses.Course.stepped_from": P,
    "courses.Course.created_at": D,
    "courses.Course.updated_at": D,
    "courses.Course.version": S,
    "courses.TherapySession.id": P,
    "courses.TherapySession.course": P,
    "courses.TherapySession.referral": P,
    "courses.TherapySession.treatment": S,
    "courses.TherapySession.scheduled_at": D,
    "courses.TherapySession.attendance": S,
    "courses.TherapySession.duration_minutes": S,
    "courses.TherapySession.medium": S,
    "courses.TherapySession.notes": ID,
    "courses.TherapySession.home_practice": ID,
    "courses.TherapySession.recorded_by": P,
    "courses.TherapySession.created_at": D,
    "courses.TherapySession.version": S,
    "courses.TherapySession.entered_in_error_at": D,
    "courses.SessionCorrection.id": P,
    "courses.SessionCorrection.session": P,
    "courses.SessionCorrection.kind": S,
    "courses.SessionCorrection.previous": ID,  # the earlier values, the session's notes among them: free text
    "courses.SessionCorrection.reason": ID,  # why it was corrected: free text
    "courses.SessionCorrection.version": S,
    "courses.SessionCorrection.by": P,
    "courses.SessionCorrection.at": D,
    "courses.Contact.id": P,
    "courses.Contact.course": P,
    "courses.Contact.kind": S,  # a code (phone call, letter, message, liaison, other)
    "courses.Contact.at": D,
    "courses.Contact.duration_minutes": S,
    "courses.Contact.with_whom": ID,  # a professional's role and organisation: free text, may name a person
    "courses.Contact.note": ID,  # free text
    "courses.Contact.recorded_by": P,
    "courses.Contact.created_at": D,
    "courses.Contact.version": S,
    "courses.Contact.entered_in_error_at": D,
    "courses.ContactCorrection.id": P,
    "courses.ContactCorrection.contact": P,
    "courses.ContactCorrection.kind": S,
    "courses.ContactCorrection.previous": ID,  # the earlier values, the note among them: free text
    "courses.ContactCorrection.reason": ID,  # free text
    "courses.ContactCorrection.version": S,
    "courses.ContactCorrection.by": P,
    "courses.ContactCorrection.at": D,
    "courses.TaskCompletion.id": P,
    "courses.TaskCompletion.course": P,
    "courses.TaskCompletion.task_id": S,  # a protocol task id
    "courses.TaskCompletion.completed_on": D,
    "courses.TaskCompletion.completed_by": P,
    "courses.TherapySession.room": S,  # a room's name ("Room 3"), chosen from the service's rooms
    "courses.FollowUp.id": P,
    "courses.FollowUp.course": P,
    "courses.FollowUp.session": P,
    "courses.FollowUp.therapist": P,
    "courses.FollowUp.reason": S,  # a code (did not attend / late, not seen)
    "courses.FollowUp.created_at": D,
    "courses.FollowUp.done_at": D,
    "courses.FollowUp.done_by": P,
    "courses.DiaryFeed.id": P,
    "courses.DiaryFeed.therapist": P,
    "courses.DiaryFeed.key_hash": S,  # a SHA-256 hash of a random key: no personal data
    "courses.DiaryFeed.created_at": D,
    # --- assessments -----------------------------------------------------------------------
    "assessments.Measurement.id": P,
    "assessments.Measurement.course": P,
    "assessments.Measurement.referral": P,
    "assessments.Measurement.session": P,
    "assessments.Measurement.instrument": S,
    "assessments.Measurement.answers": S,  # {item: value}: numbers on the measure's scale, no text
    "assessments.Measurement.variants": S,  # the measure's variant choices (codes)
    "assessments.Measurement.total": S,
    "assessments.Measurement.severity": S,
    "assessments.Measurement.caseness": S,
    "assessments.Measurement.complete": S,
    "assessments.Measurement.prorated": S,
    "assessments.Measurement.risk": S,  # the risk items answered (item ids and values)
    "assessments.Measurement.recorded_at": D,
    "assessments.Measurement.recorded_by": P,
    "assessments.Measurement.source": S,
    "assessments.Measurement.questionnaire_link": P,
    "assessments.Measurement.created_at": D,
    "assessments.Measurement.version": S,
    "assessments.Measurement.entered_in_error_at": D,
    "assessments.MeasurementCorrection.id": P,
    "assessments.MeasurementCorrection.measurement": P,
    "assessments.MeasurementCorrection.kind": S,
    "assessments.MeasurementCorrection.previous": ID,  # earlier answers and scores, with dates: kept out of exports
    "assessments.MeasurementCorrection.reason": ID,  # why it was corrected: free text
    "assessments.MeasurementCorrection.version": S,
    "assessments.MeasurementCorrection.by": P,
    "assessments.MeasurementCorrection.at": D,
    "assessments.RiskAlert.id": P,
    "assessments.RiskAlert.measurement": P,
    "assessments.RiskAlert.course": P,
    "assessments.RiskAlert.referral": P,
    "assessments.RiskAlert.instrument": S,
    "assessments.RiskAlert.questionnaire_link": P,
    "assessments.RiskAlert.items": S,  # item ids and values
    "assessments.RiskAlert.raised_at": D,
    "assessments.RiskAlert.acknowledged_at": D,
    "assessments.RiskAlert.acknowledged_by": P,
    "assessments.RiskAlert.note": ID,  # what the clinician did: free text
    "assessments.RiskAlert.left_open_reason": S,  # a code
    "assessments.RiskAlert.left_open_by": P,
    "assessments.RiskAlert.left_open_at": D,
    "assessments.RiskAlert.measurement_corrected_at": D,
    "assessments.RiskAssessment.id": P,
    "assessments.RiskAssessment.referral": P,
    "assessments.RiskAssessment.course": P,
    "assessments.RiskAssessment.number": S,
    "assessments.RiskAssessment.reviews": P,
    "assessments.RiskAssessment.alert": P,
    "assessments.RiskAssessment.level": S,  # a choice id (low / medium / high)
    "assessments.RiskAssessment.level_label": S,  # the service's label of that choice
    "assessments.RiskAssessment.assessment_fields": S,  # the service's field definitions, no patient data
    "assessments.RiskAssessment.assessment": ID,  # the clinician's free text about the patient
    "assessments.RiskAssessment.safety_plan_fields": S,
    "assessments.RiskAssessment.safety_plan": ID,  # free text: names, numbers, places
    "assessments.RiskAssessment.review_due": D,
    "assessments.RiskAssessment.recorded_at": D,
    "assessments.RiskAssessment.recorded_by": P,
    # --- questionnaires --------------------------------------------------------------------
    "questionnaires.QuestionnaireLink.id": P,
    "questionnaires.QuestionnaireLink.token_hash": ID,  # a credential's digest
    "questionnaires.QuestionnaireLink.patient": P,
    "questionnaires.QuestionnaireLink.course": P,
    "questionnaires.QuestionnaireLink.referral": P,
    "questionnaires.QuestionnaireLink.session": P,
    "questionnaires.QuestionnaireLink.instruments": S,
    "questionnaires.QuestionnaireLink.created_at": D,
    "questionnaires.QuestionnaireLink.created_by": P,
    "questionnaires.QuestionnaireLink.expires_at": D,
    "questionnaires.QuestionnaireLink.opened_at": D,
    "questionnaires.QuestionnaireLink.submitted_at": D,
    "questionnaires.QuestionnaireLink.withdrawn_at": D,
    "questionnaires.QuestionnaireLink.draft": S,  # {measure: {item: value}}
    "questionnaires.QuestionnaireLink.reminder_due_at": D,
    "questionnaires.QuestionnaireLink.reminder_sent_at": D,
    "questionnaires.QuestionnaireLink.closed_reason": S,  # a code
    "questionnaires.QuestionnaireLink.delivery_channel": S,  # a code
    "questionnaires.QuestionnaireLink.delivery": S,  # a code
    "questionnaires.QuestionnaireLink.delivered_to": ID,  # part of a contact address
    "questionnaires.QuestionnaireLink.delivered_at": D,
    "questionnaires.QuestionnaireLink.delivery_error": ID,  # free text
    "questionnaires.TokenAttempt.id": P,
    "questionnaires.TokenAttempt.client": ID,  # a hashed client address: still personal data
    "questionnaires.TokenAttempt.at": D,
    # --- formulation (every text the patient and therapist write is identifying) -------------
    "formulation.IpafRevision.id": P,
    "formulation.IpafRevision.course": P,
    "formulation.IpafRevision.number": S,
    "formulation.IpafRevision.self_representation": ID,
    "formulation.IpafRevision.other_representation": ID,
    "formulation.IpafRevision.affect": ID,
    "formulation.IpafRevision.defensive_function": ID,
    "formulation.IpafRevision.link_to_depression": ID,
    "formulation.IpafRevision.agreed_with_patient": S,
    "formulation.IpafRevision.agreed_on": D,
    "formulation.IpafRevision.phase_id": S,
    "formulation.IpafRevision.created_by": P,
    "formulation.IpafRevision.created_at": D,
    "formulation.InventoryPerson.id": P,
    "formulation.InventoryPerson.course": P,
    "formulation.InventoryPerson.label": ID,  # often a first name
    "formulation.InventoryPerson.relationship": ID,  # free text ("my sister in Leeds")
    "formulation.InventoryPerson.ring": S,
    "formulation.InventoryPerson.quality": ID,
    "formulation.InventoryPerson.support": ID,
    "formulation.InventoryPerson.conflict": ID,
    "formulation.InventoryPerson.expectations": ID,
    "formulation.InventoryPerson.change_wanted": ID,
    "formulation.InventoryPerson.position": S,
    "formulation.InventoryPerson.version": S,
    "formulation.InventoryPerson.removed_at": D,
    "formulation.TimelineEvent.id": P,
    "formulation.TimelineEvent.course": P,
    "formulation.TimelineEvent.occurred_on": D,
    "formulation.TimelineEvent.event": ID,
    "formulation.TimelineEvent.mood": S,
    "formulation.TimelineEvent.version": S,
    "formulation.TimelineEvent.removed_at": D,
    "formulation.IptFormulation.id": P,
    "formulation.IptFormulation.course": P,
    "formulation.IptFormulation.formulation": ID,
    "formulation.IptFormulation.contract_sessions": S,
    "formulation.IptFormulation.contract_start": D,
    "formulation.IptFormulation.contract_end": D,
    "formulation.IptFormulation.version": S,
    "formulation.IptFormulation.updated_at": D,
    "formulation.FocalArea.id": P,
    "formulation.FocalArea.formulation": P,
    "formulation.FocalArea.area": S,
    "formulation.FocalArea.dispute_stage": S,
    "formulation.FocalArea.goals": ID,
    "formulation.FocalArea.position": S,
    # --- letters ---------------------------------------------------------------------------
    "letters.Letter.id": P,
    "letters.Letter.course": P,
    "letters.Letter.kind": S,
    "letters.Letter.status": S,
    "letters.Letter.body": ID,
    "letters.Letter.version": S,
    "letters.Letter.number": S,
    "letters.Letter.supersedes": P,
    "letters.Letter.created_by": P,
    "letters.Letter.created_at": D,
    "letters.Letter.updated_by": P,
    "letters.Letter.updated_at": D,
    "letters.Letter.finalised_by": P,
    "letters.Letter.finalised_at": D,
    "letters.LetterRevision.id": P,
    "letters.LetterRevision.letter": P,
    "letters.LetterRevision.version": S,
    "letters.LetterRevision.body": ID,
    "letters.LetterRevision.saved_by": P,
    "letters.LetterRevision.saved_at": D,
    # === Installed third-party apps ========================================================
    # Not in the research export (its TABLES are project tables only), but classified all the
    # same: they sit in the same database, in backups and in subject access and erasure.
    # --- django.contrib.auth (the user model is accounts.User) -----------------------------
    "auth.Permission.id": P,
    "auth.Permission.name": S,  # "Can add user": generated from the model, not written by anyone
    "auth.Permission.content_type": P,
    "auth.Permission.codename": S,
    "auth.Group.id": P,
    "auth.Group.name": ID,  # typed by an administrator, like a team name it can locate a service
    "auth.Group.permissions": P,
    # --- django.contrib.contenttypes -------------------------------------------------------
    "contenttypes.ContentType.id": P,
    "contenttypes.ContentType.app_label": S,
    "contenttypes.ContentType.model": S,
    # --- django.contrib.sessions -----------------------------------------------------------
    # The key is a bearer credential (whoever holds it is signed in), so it is identifying
    # even though it is the primary key; the data holds the user's id and the OTP device.
    "sessions.Session.session_key": ID,
    "sessions.Session.session_data": ID,
    "sessions.Session.expire_date": D,
    # --- fidelity (session recordings, consent to them, adherence ratings; docs/fidelity-recordings.md) --
    "fidelity.RecordingConsent.id": P,
    "fidelity.RecordingConsent.course": P,
    "fidelity.RecordingConsent.given_on": D,
    "fidelity.RecordingConsent.how": S,
    "fidelity.RecordingConsent.given_by": P,
    "fidelity.RecordingConsent.recorded_at": D,
    "fidelity.RecordingConsent.withdrawn_on": D,
    "fidelity.RecordingConsent.withdrawn_by": P,
    "fidelity.RecordingConsent.withdrawn_at": D,
    "fidelity.Recording.id": P,
    "fidelity.Recording.course": P,
    "fidelity.Recording.session": P,
    "fidelity.Recording.consent": P,
    "fidelity.Recording.phase": S,  # a scale's phase key
    "fidelity.Recording.content_type": S,
    "fidelity.Recording.size": S,
    "fidelity.Recording.chunk_size": S,
    "fidelity.Recording.chunk_count": S,
    "fidelity.Recording.chunks_received": S,
    "fidelity.Recording.sha256": ID,  # the digest of a recording of the patient: confirms a copy of it
    "fidelity.Recording.storage_prefix": ID,  # where the patient's encrypted recording is stored
    "fidelity.Recording.wrapped_key": ID,  # key material (wrapped): never leaves the database
    "fidelity.Recording.key_id": ID,  # a fingerprint of the master key: kept out with the key material
    "fidelity.Recording.state": S,
    "fidelity.Recording.uploaded_by": P,
    "fidelity.Recording.started_at": D,
    "fidelity.Recording.finished_at": D,
    "fidelity.Recording.second_rating_sampled": S,
    "fidelity.Recording.held_for_accreditation": S,
    "fidelity.Recording.deleted_at": D,
    "fidelity.Recording.deleted_because": S,
    "fidelity.RatingAssignment.id": P,
    "fidelity.RatingAssignment.recording": P,
    "fidelity.RatingAssignment.rater": P,
    "fidelity.RatingAssignment.scale": S,
    "fidelity.RatingAssignment.phase": S,
    "fidelity.RatingAssignment.kind": S,
    "fidelity.RatingAssignment.assigned_by": P,
    "fidelity.RatingAssignment.assigned_at": D,
    "fidelity.RatingAssignment.ratings": S,  # item ids -> whole numbers on the scale's range
    "fidelity.RatingAssignment.total": S,
    "fidelity.RatingAssignment.mean": S,
    "fidelity.RatingAssignment.passed": S,
    "fidelity.RatingAssignment.submitted_at": D,
    "fidelity.RatingAssignment.version": S,
    "fidelity.RatingCorrection.id": P,
    "fidelity.RatingCorrection.assignment": P,
    "fidelity.RatingCorrection.kind": S,
    "fidelity.RatingCorrection.previous": ID,  # JSON holding a date-time: not date-shiftable as it is
    "fidelity.RatingCorrection.reason": ID,  # free text
    "fidelity.RatingCorrection.version": S,
    "fidelity.RatingCorrection.by": P,
    "fidelity.RatingCorrection.at": D,
    # --- documents (files made by the task worker: letters' PDFs, subject access copies) ---------
    "documents.Document.id": P,
    "documents.Document.kind": S,
    "documents.Document.patient": P,
    "documents.Document.letter": P,
    "documents.Document.letter_version": S,
    "documents.Document.letter_final": S,
    "documents.Document.reference": ID,  # a case reference typed by staff: free text
    "documents.Document.state": S,
    "documents.Document.requested_by": P,
    "documents.Document.requested_at": D,
    "documents.Document.started_at": D,
    "documents.Document.finished_at": D,
    "documents.Document.expires_at": D,
    "documents.Document.error": ID,  # free text by type (our own message; kept out all the same)
    "documents.Document.file_name": ID,  # where the patient's file is stored
    "documents.Document.download_name": ID,  # names the record number
    "documents.Document.size": S,
    "documents.Document.sha256": ID,  # the digest of a file of patient data
    # --- service (the waiting list's opt-in invitations; grades, costs, capacity) ----------------
    "service.OptInInvitation.id": P,
    "service.OptInInvitation.referral": P,
    "service.OptInInvitation.channel": S,
    "service.OptInInvitation.sent_on": D,
    "service.OptInInvitation.respond_by": D,
    "service.OptInInvitation.sent_by": P,
    "service.OptInInvitation.created_at": D,
    "service.OptInInvitation.delivery": S,
    "service.OptInInvitation.delivered_at": D,
    "service.OptInInvitation.opted_in_on": D,
    "service.OptInInvitation.opted_in_recorded_by": P,
    "service.OptInInvitation.opted_in_recorded_at": D,
    "service.StaffGrade.id": P,
    "service.StaffGrade.name": S,  # a pay grade ("Band 7 high-intensity therapist"), shared by many staff
    "service.StaffGrade.created_at": D,
    "service.GradeCost.id": P,
    "service.GradeCost.grade": P,
    "service.GradeCost.effective_from": D,
    "service.GradeCost.cost_per_session": S,
    "service.GradeCost.source": ID,  # free text
    "service.GradeCost.created_by": P,
    "service.GradeCost.created_at": D,
    "service.StaffProfile.id": P,
    "service.StaffProfile.user": P,
    "service.StaffProfile.grade": P,
    "service.StaffProfile.weekly_capacity": S,
    "service.StaffProfile.updated_at": D,
    "service.StaffProfile.updated_by": P,
    "service.StaffProfile.version": S,
    # --- supervision (issue 15) -------------------------------------------------------------
    "supervision.SupervisionRelationship.id": P,
    "supervision.SupervisionRelationship.supervisor": P,
    "supervision.SupervisionRelationship.supervisee": P,
    "supervision.SupervisionRelationship.kind": S,
    "supervision.SupervisionRelationship.started": D,
    "supervision.SupervisionRelationship.ended": D,
    "supervision.SupervisionRelationship.cases": P,
    "supervision.SupervisionRelationship.confirmed_at": D,
    "supervision.SupervisionRelationship.created_by": P,
    "supervision.SupervisionRelationship.created_at": D,
    "supervision.SupervisionRelationship.updated_at": D,
    "supervision.SupervisionSession.id": P,
    "supervision.SupervisionSession.supervisor": P,
    "supervision.SupervisionSession.supervisees": P,
    "supervision.SupervisionSession.date": D,
    "supervision.SupervisionSession.minutes": S,
    "supervision.SupervisionSession.format": S,
    "supervision.SupervisionSession.actions_agreed": ID,  # free text (clinical content)
    "supervision.SupervisionSession.created_by": P,
    "supervision.SupervisionSession.created_at": D,
    "supervision.SupervisionSession.updated_at": D,
    "supervision.DiscussedCase.id": P,
    "supervision.DiscussedCase.session": P,
    "supervision.DiscussedCase.course": P,
    "supervision.DiscussedCase.minutes": S,
    "supervision.DiscussedCase.sessions_reviewed": P,
    "supervision.DiscussedCase.actions_agreed": ID,  # free text (clinical content about the patient)
    "supervision.SupervisionHourlyCost.id": P,
    "supervision.SupervisionHourlyCost.grade": P,
    "supervision.SupervisionHourlyCost.effective_from": D,
    "supervision.SupervisionHourlyCost.cost_per_hour": S,
    "supervision.SupervisionHourlyCost.source": ID,  # free text
    "supervision.SupervisionHourlyCost.created_by": P,
    "supervision.SupervisionHourlyCost.created_at": D,
    # --- outcomes (one summary per referral, derived at write time from the rows above) ---------
    "outcomes.ReferralSummary.id": P,
    "outcomes.ReferralSummary.referral": P,
    "outcomes.ReferralSummary.therapy": S,
    "outcomes.ReferralSummary.therapist": P,
    "outcomes.ReferralSummary.courses": S,
    "outcomes.ReferralSummary.stepped_up": S,
    "outcomes.ReferralSummary.received_on": D,
    "outcomes.ReferralSummary.ended_on": D,
    "outcomes.ReferralSummary.end_code": S,
    "outcomes.ReferralSummary.attended_treatment": S,
    "outcomes.ReferralSummary.first_treatment_on": D,
    "outcomes.ReferralSummary.second_treatment_on": D,
    "outcomes.ReferralSummary.wait_days": S,  # an interval in days: the date shift keeps it
    "outcomes.ReferralSummary.treatment_contacts": S,
    "outcomes.ReferralSummary.attended_contacts": S,
    "outcomes.ReferralSummary.dna_contacts": S,
    "outcomes.ReferralSummary.first_contact_on": D,
    "outcomes.ReferralSummary.last_contact_on": D,
    "outcomes.ReferralSummary.finished": S,
    "outcomes.ReferralSummary.phq9_n": S,
    "outcomes.ReferralSummary.phq9_first": S,
    "outcomes.ReferralSummary.phq9_first_at": D,
    "outcomes.ReferralSummary.phq9_last": S,
    "outcomes.ReferralSummary.phq9_last_at": D,
    "outcomes.ReferralSummary.anxiety_measure": S,
    "outcomes.ReferralSummary.anxiety_n": S,
    "outcomes.ReferralSummary.anxiety_first": S,
    "outcomes.ReferralSummary.anxiety_first_at": D,
    "outcomes.ReferralSummary.anxiety_last": S,
    "outcomes.ReferralSummary.anxiety_last_at": D,
    "outcomes.ReferralSummary.paired": S,
    "outcomes.ReferralSummary.caseness_at_start": S,
    "outcomes.ReferralSummary.recovered": S,
    "outcomes.ReferralSummary.reliable_improvement": S,
    "outcomes.ReferralSummary.reliable_deterioration": S,
    "outcomes.ReferralSummary.no_reliable_change": S,
    "outcomes.ReferralSummary.reliable_recovery": S,
    "outcomes.ReferralSummary.refreshed_at": D,
    # --- django_tasks_db (background work, docs/adr/0006-background-work.md) ----------------
    "django_tasks_database.DBTaskResult.id": P,
    "django_tasks_database.DBTaskResult.status": S,
    "django_tasks_database.DBTaskResult.enqueued_at": D,
    "django_tasks_database.DBTaskResult.started_at": D,
    "django_tasks_database.DBTaskResult.finished_at": D,
    "django_tasks_database.DBTaskResult.args_kwargs": ID,  # a task's arguments: ids, maybe addresses
    "django_tasks_database.DBTaskResult.priority": S,
    "django_tasks_database.DBTaskResult.task_path": ID,  # a dotted code path, but free text by type
    "django_tasks_database.DBTaskResult.worker_ids": S,  # random strings made by the worker
    "django_tasks_database.DBTaskResult.queue_name": S,
    "django_tasks_database.DBTaskResult.backend_name": S,
    "django_tasks_database.DBTaskResult.run_after": D,
    "django_tasks_database.DBTaskResult.return_value": ID,  # whatever the task returned
    "django_tasks_database.DBTaskResult.exception_class_path": ID,  # free text by type
    "django_tasks_database.DBTaskResult.traceback": ID,  # exception messages can quote values
    # --- django_otp: TOTP devices (the staff second factor) ---------------------------------
    "otp_totp.TOTPDevice.id": P,
    "otp_totp.TOTPDevice.user": P,
    "otp_totp.TOTPDevice.name": ID,  # a label the user or an administrator may choose
    "otp_totp.TOTPDevice.confirmed": S,
    "otp_totp.TOTPDevice.throttling_failure_timestamp": D,
    "otp_totp.TOTPDevice.throttling_failure_count": S,
    "otp_totp.TOTPDevice.created_at": D,
    "otp_totp.TOTPDevice.last_used_at": D,
    "otp_totp.TOTPDevice.key": ID,  # the shared TOTP secret: a credential
    "otp_totp.TOTPDevice.step": S,
    "otp_totp.TOTPDevice.t0": S,
    "otp_totp.TOTPDevice.digits": S,
    "otp_totp.TOTPDevice.tolerance": S,
    "otp_totp.TOTPDevice.drift": S,
    "otp_totp.TOTPDevice.last_t": D,  # the last code's time step: a time, counted in steps
    # --- axes (login lockout). Usernames, client addresses, user agents and Accept headers
    # identify or fingerprint a person; the request data and paths are free text. ------------
    "axes.AccessAttempt.id": P,
    "axes.AccessAttempt.user_agent": ID,
    "axes.AccessAttempt.ip_address": ID,
    "axes.AccessAttempt.username": ID,
    "axes.AccessAttempt.http_accept": ID,
    "axes.AccessAttempt.path_info": ID,
    "axes.AccessAttempt.attempt_time": D,
    "axes.AccessAttempt.get_data": ID,
    "axes.AccessAttempt.post_data": ID,  # the login form without the password (axes masks it)
    "axes.AccessAttempt.failures_since_start": S,
    "axes.AccessAttemptExpiration.access_attempt": P,
    "axes.AccessAttemptExpiration.expires_at": D,
    "axes.AccessFailureLog.id": P,
    "axes.AccessFailureLog.user_agent": ID,
    "axes.AccessFailureLog.ip_address": ID,
    "axes.AccessFailureLog.username": ID,
    "axes.AccessFailureLog.http_accept": ID,
    "axes.AccessFailureLog.path_info": ID,
    "axes.AccessFailureLog.attempt_time": D,
    "axes.AccessFailureLog.locked_out": S,
    "axes.AccessLog.id": P,
    "axes.AccessLog.user_agent": ID,
    "axes.AccessLog.ip_address": ID,
    "axes.AccessLog.username": ID,
    "axes.AccessLog.http_accept": ID,
    "axes.AccessLog.path_info": ID,
    "axes.AccessLog.attempt_time": D,
    "axes.AccessLog.logout_time": D,
    "axes.AccessLog.session_hash": ID,  # a digest of the session key, a credential
}

CREDENTIAL_KEYS = frozenset({"sessions.Session.session_key"})
"""Primary keys that are credentials, so identifying rather than pseudonymous."""

PROJECT_APP_PREFIX = "interpersonal."


def key(model: type, field_name: str) -> str:
    return f"{model._meta.app_label}.{model.__name__}.{field_name}"


def field_names(model: type) -> list[str]:
    """The model's own stored fields: concrete columns and many-to-many relations."""
    opts = model._meta
    return [f.name for f in opts.concrete_fields] + [f.name for f in opts.local_many_to_many]


def classify(model: type, field_name: str) -> Class:
    """The field's class; a field missing from :data:`FIELDS` is an error, never a default."""
    try:
        return FIELDS[key(model, field_name)]
    except KeyError:
        raise LookupError(f"{key(model, field_name)} is not classified (interpersonal/web/privacy/classification.py)") from None


def project_models() -> list[type]:
    """The project's own models (apps under ``interpersonal.``): what the research export reads."""
    from django.apps import apps

    return [m for cfg in apps.get_app_configs() if cfg.name.startswith(PROJECT_APP_PREFIX) for m in cfg.get_models()]


def installed_models() -> list[type]:
    """Every installed model, third-party apps included: what the classification must cover.
    Auto-created many-to-many tables are covered by their field on the owning model."""
    from django.apps import apps

    return list(apps.get_models())
