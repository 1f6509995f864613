"""Summaries for the referrals already in the database (summaries.rebuild on the historical models):
the dashboard reads nothing else, so an upgraded service must not start with an empty one."""

from django.db import migrations


def fill(apps, schema_editor):
    from interpersonal.web.outcomes import summaries

    summaries.rebuild(apps=apps)


class Migration(migrations.Migration):

    dependencies = [
        ("outcomes", "0002_referral_summaries_replace_stored_figures"),
        ("courses", "0004_referral_required"),
        ("assessments", "0006_referral_required"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
