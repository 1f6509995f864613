"""Phone numbers stored before they were checked (issue 12) become E.164, as the forms now store
them and the SMS gateway expects. A number that is not one is left as it was typed: the SMS path
skips it (questionnaires.notify.contact_for) and the patient's form asks for it to be corrected."""

from django.db import migrations


def to_e164(apps, schema_editor):
    from interpersonal.web.bounds import InvalidPhoneNumber, normalise_phone

    Patient = apps.get_model("patients", "Patient")
    for pk, phone in Patient.objects.exclude(phone="").values_list("pk", "phone").iterator():
        try:
            e164 = normalise_phone(phone)
        except InvalidPhoneNumber:
            continue
        if e164 != phone:
            Patient.objects.filter(pk=pk).update(phone=e164)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]
    operations = [migrations.RunPython(to_e164, migrations.RunPython.noop)]
