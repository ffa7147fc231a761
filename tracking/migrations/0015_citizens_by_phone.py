"""One citizen per person who calls again: phones normalized, and the rows that
earlier registrations made for the same phone and name joined into the oldest.

A different name on the same phone (a family phone) stays a different citizen:
each case's redaction masks the name given on that case.
"""

from django.db import migrations


def join_citizens(apps, schema_editor):
    from tracking.models.reference import normalize_phone  # a pure function

    Citizen = apps.get_model("tracking", "Citizen")
    Case = apps.get_model("tracking", "Case")
    Call = apps.get_model("tracking", "Call")
    kept: dict[tuple[str, str], int] = {}
    for citizen in Citizen.objects.order_by("pk").iterator():
        phone = normalize_phone(citizen.phone)
        if phone != citizen.phone:
            Citizen.objects.filter(pk=citizen.pk).update(phone=phone)
        if not phone:
            continue
        key = (phone, citizen.name.strip())
        first = kept.setdefault(key, citizen.pk)
        if first != citizen.pk:
            Case.objects.filter(citizen_id=citizen.pk).update(citizen_id=first)
            Call.objects.filter(citizen_id=citizen.pk).update(citizen_id=first)
            Citizen.objects.filter(pk=citizen.pk).delete()


def sync_roles(apps, schema_editor):
    from tracking.roles import sync_role_groups

    sync_role_groups(apps, strict=False)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0014_intake_doors")]

    operations = [
        migrations.RunPython(join_citizens, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
