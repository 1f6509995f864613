"""Every row now belongs to a referral (filled by referrals 0002_referrals_from_existing_courses)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_contacts_and_courses_in_referrals"),
        ("referrals", "0002_referrals_from_existing_courses"),
    ]

    operations = [
        migrations.AlterField(
            model_name="course", name="referral",
            field=models.ForeignKey(help_text="The episode of care this course is a step of.",
                                    on_delete=django.db.models.deletion.PROTECT, related_name="courses", to="referrals.referral"),
        ),
        migrations.AlterField(
            model_name="therapysession", name="referral",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="contacts", to="referrals.referral"),
        ),
    ]
