"""Whether a referral stepped up (a step-2 course followed by a step-3 course), which the core's
report counts (``stepped_up``): added, then every summary rebuilt, as summaries are derived data."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from interpersonal.web.outcomes import summaries

    summaries.rebuild(apps=apps)


class Migration(migrations.Migration):

    dependencies = [
        ("outcomes", "0003_fill_referral_summaries"),
    ]

    operations = [
        migrations.AddField(
            model_name="referralsummary",
            name="stepped_up",
            field=models.BooleanField(default=False, help_text="A step-2 course followed by a step-3 course."),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
