"""Thin tasks of the community services, queued through the outbox."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from .. import roles
from .models import PartnerFlag


def supervisor_emails() -> list[str]:
    return sorted(
        set(
            get_user_model()
            .objects.filter(
                groups__name=roles.SUPERVISORS, is_active=True, email__gt=""
            )
            .values_list("email", flat=True)
        )
    )


@shared_task(acks_late=True)
def notify_partner_flagged(flag_id: int) -> int:
    """E-mail the supervisors that a partner reached the complaints threshold.

    Returns the number of recipients. Sent once per flag by the outbox, which
    retries a failure; a repeated mail is bearable, a lost one is not.
    """
    flag = PartnerFlag.objects.select_related("partner").filter(pk=flag_id).first()
    if flag is None:
        return 0
    recipients = supervisor_emails()
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = ngettext(
            "[8890] Partner %(partner)s: %(count)s complaint",
            "[8890] Partner %(partner)s: %(count)s complaints",
            flag.complaints,
        ) % {
            "partner": flag.partner.name,
            "count": flag.complaints,
        }
        body = "\n".join(
            [
                ngettext(
                    "%(partner)s has had %(count)s complaint recently. "
                    "Please look into the partner's work.",
                    "%(partner)s has had %(count)s complaints recently. "
                    "Please look into the partner's work.",
                    flag.complaints,
                )
                % {
                    "partner": flag.partner.name,
                    "count": flag.complaints,
                },
                settings.WAGTAILADMIN_BASE_URL
                + reverse("partners_partners:edit", args=(flag.partner_id,)),
            ]
        )
    send_mail(subject, body, None, recipients)
    return len(recipients)
