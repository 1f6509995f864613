"""Screening and triage: the service's suitability rules, suitability decisions, triages.

The rules are seeded with the typical service rules of DOMAIN.md §6, every one UNCONFIRMED
(``confirmed = False``, "[U]" in its description): NHS Talking Therapies publishes no national
exclusion list, so each service reviews them on its rules page and confirms, changes or turns
them off. Values are literal here (a migration must not change when the code does).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


U = "[U] Unconfirmed default: a typical service rule (DOMAIN.md §6), not a national one. "
SOURCE = "DOMAIN.md §6 (research notes on typical NHS Talking Therapies service rules; unconfirmed as national rules)"
DEFAULT_RULES = [
    {"name": "Adults only (18 or over)", "kind": "min_age", "params": {"years": 18, "months": 0},
     "outcome": "signpost",
     "message": "Younger than the service's minimum age: signpost to children and young people's mental health "
                "services, or back to the referrer.",
     "description": U + "NHS Talking Therapies serves adults. Some services accept referrals from 17 years 9 months, "
                        "to ease the move from children's services: set 17 years and 9 months for that."},
    {"name": "Significant or imminent suicide risk", "kind": "risk",
     "params": {"phq9_item9_at_least": 3, "clinician_judgement": True}, "outcome": "signpost",
     "message": "Not a crisis service: where the risk is significant or imminent, follow the risk protocol now "
                "(crisis line or single point of access; 999 in an emergency) and record what was done on the "
                "risk alert.",
     "description": U + "Fires on the screening clinician's judgement, or on PHQ-9 item 9 answered 3 (nearly every "
                        "day). No national threshold exists: item 9 is a screening question, not a risk assessment, "
                        "and the threshold of 3 is this software's default."},
    {"name": "Thoughts of self-harm at screening (PHQ-9 item 9 above 0)", "kind": "risk",
     "params": {"phq9_item9_at_least": 1, "clinician_judgement": False}, "outcome": "review",
     "message": "PHQ-9 item 9 was answered above 0: assess the risk with the patient before deciding.",
     "description": U + "Any answer above 0 also raises a risk alert, as in a course of treatment (DOMAIN.md §3)."},
    {"name": "Psychosis (F20–F29)", "kind": "problem_descriptor", "params": {"codes": ["F20-F29"]},
     "outcome": "refer_on",
     "message": "Psychotic disorders are usually treated in secondary mental health care: refer on.",
     "description": U + "Psychosis excludes affect-focused therapies generally (DOMAIN.md §1, seeds/004)."},
    {"name": "Bipolar affective disorder (F31)", "kind": "problem_descriptor", "params": {"codes": ["F31"]},
     "outcome": "refer_on", "message": "Bipolar disorder is usually treated in secondary mental health care: refer on.",
     "description": U},
    {"name": "Personality disorder as the primary problem (F60)", "kind": "problem_descriptor",
     "params": {"codes": ["F60"]}, "outcome": "refer_on",
     "message": "A personality disorder as the primary problem usually needs longer or specialist care: refer on.",
     "description": U + "The problem descriptor is the primary problem: a personality disorder noted beside "
                        "depression does not make this rule fire."},
    {"name": "Organic mental disorders (F00–F09)", "kind": "problem_descriptor", "params": {"codes": ["F00-F09"]},
     "outcome": "refer_on",
     "message": "Organic conditions (dementia, delirium, brain injury) need assessment elsewhere: refer on.",
     "description": U},
    {"name": "Substance misuse (F10–F19)", "kind": "problem_descriptor", "params": {"codes": ["F10-F19"]},
     "outcome": "review",
     "message": "Substance misuse as the primary problem: refer on if it is unmanaged; a clinician decides whether "
                "it is managed (for example with a drug and alcohol service).",
     "description": U + "Services refer unmanaged substance misuse on; the code alone cannot say whether it is "
                        "managed, so by default this rule flags the referral for clinical review rather than "
                        "suggesting referral on."},
    {"name": "Already under secondary mental health care", "kind": "secondary_care", "params": {},
     "outcome": "refer_on",
     "message": "Already under secondary mental health care: liaise with the care team rather than treat in parallel.",
     "description": U},
]


def seed(apps, schema_editor):
    SuitabilityRule = apps.get_model("referrals", "SuitabilityRule")
    SuitabilityRule.objects.bulk_create(
        SuitabilityRule(position=10 * (i + 1), source=SOURCE, confirmed=False, active=True, **rule)
        for i, rule in enumerate(DEFAULT_RULES)
    )


def unseed(apps, schema_editor):
    pass  # the table goes with the migration


class Migration(migrations.Migration):

    dependencies = [
        ('referrals', '0003_self_referral_and_attempts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SuitabilityRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200)),
                ('kind', models.CharField(choices=[('min_age', 'Minimum age'), ('risk', 'Significant or imminent suicide risk'), ('problem_descriptor', 'Problem descriptor (ICD-10)'), ('secondary_care', 'Already under secondary mental health care')], max_length=24)),
                ('params', models.JSONField(blank=True, default=dict, help_text="The kind's parameters (core.pathways.suitability.PARAMETERS).")),
                ('outcome', models.CharField(choices=[('signpost', 'Signpost elsewhere'), ('refer_on', 'Refer on'), ('review', 'Flag for clinical review')], max_length=16)),
                ('message', models.TextField(help_text='What the screening clinician is told when the rule applies.')),
                ('description', models.TextField(blank=True, help_text='Why the service has the rule.')),
                ('source', models.CharField(blank=True, help_text='Where the rule comes from.', max_length=500)),
                ('confirmed', models.BooleanField(default=False, help_text="Confirmed as this service's policy. Unconfirmed rules are shown as defaults [U].")),
                ('active', models.BooleanField(default=True)),
                ('position', models.PositiveSmallIntegerField(default=0, help_text='Rules are checked and listed in this order.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('version', models.PositiveIntegerField(default=1)),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ScreeningDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('decision', models.CharField(choices=[('suitable', 'Suitable: go on to triage'), ('signposted', "Signpost elsewhere (with the patient's agreement)"), ('referred_on', 'Refer on to another service'), ('not_suitable', 'Not suitable: directed back to the referrer')], max_length=16)),
                ('reason', models.TextField(help_text="Why, in the clinician's words.")),
                ('suggestion', models.CharField(choices=[('suitable', 'Suitable: no rule applies'), ('signpost', 'Signpost elsewhere'), ('refer_on', 'Refer on'), ('review', 'Clinical review needed'), ('incomplete', 'Not all rules could be checked')], max_length=16)),
                ('fired_rule_ids', models.JSONField(blank=True, default=list, help_text='The rules that fired (ids).')),
                ('findings', models.JSONField(blank=True, default=list, help_text='Every active rule as evaluated: id, name, kind, outcome, fired (true, false or null) and why.')),
                ('phq9_item9', models.PositiveSmallIntegerField(blank=True, help_text='At screening; empty if unanswered.', null=True)),
                ('clinician_risk', models.BooleanField(blank=True, help_text='The clinician judged the suicide risk significant or imminent.', null=True)),
                ('under_secondary_care', models.BooleanField(blank=True, null=True)),
                ('problem_descriptor', models.CharField(blank=True, max_length=8)),
                ('end_reason', models.CharField(blank=True, help_text='The end reason the referral was discharged with.', max_length=24)),
                ('decided_at', models.DateTimeField()),
                ('decided_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='screening_decisions', to='referrals.referral')),
            ],
            options={
                'ordering': ['decided_at', 'id'],
                'indexes': [models.Index(fields=['referral', 'decided_at'], name='referrals_s_referra_33673d_idx')],
            },
        ),
        migrations.CreateModel(
            name='Triage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.PositiveSmallIntegerField()),
                ('therapy', models.CharField(help_text='A protocol id of that step.', max_length=32)),
                ('reason', models.TextField()),
                ('preferred_therapy', models.CharField(help_text='The protocol the patient prefers, or no preference.', max_length=32)),
                ('preference', models.TextField(blank=True, help_text="The patient's preference in their words.")),
                ('phq9_total', models.FloatField(blank=True, help_text='The PHQ-9 total shown when triaging.', null=True)),
                ('severity', models.CharField(blank=True, choices=[('less_severe', 'Less severe (PHQ-9 below 16)'), ('more_severe', 'More severe (PHQ-9 16 or more)')], help_text='NICE NG222 severity from that PHQ-9 (less severe below 16).', max_length=16)),
                ('at', models.DateTimeField()),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='triages', to='referrals.referral')),
                ('therapist', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['at', 'id'],
                'indexes': [models.Index(fields=['referral', 'at'], name='referrals_t_referra_d2b617_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('step__gte', 2), ('step__lte', 3)), name='triage_step_2_or_3')],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
