"""Photos a citizen sends with a request.

They are personal data (faces, number plates, the inside of a home): stored under
generated names in the private storage, which no URL serves, and shown to staff
only, through a view that checks the case may be seen (see
:mod:`tracking.intake.photos` for how an upload becomes one).
"""

from __future__ import annotations

import uuid

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _


class _PrivateStorage(LazyObject):
    """``storages["private"]``, looked up when first used and again after the
    STORAGES setting changes (a field's storage is otherwise fixed at import)."""

    def _setup(self):
        self._wrapped = storages["private"]


_private = _PrivateStorage()


@receiver(setting_changed)
def _forget_private_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _private._wrapped = empty


def private_storage():
    return _private


def photo_path(instance: CaseAttachment, filename: str) -> str:
    """A generated name: nothing of what the citizen called the file survives."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"case-photos/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class CaseAttachment(models.Model):
    case = models.ForeignKey(
        "tracking.Case",
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("case"),
    )
    file = models.FileField(
        _("file"), upload_to=photo_path, storage=private_storage, max_length=200
    )
    content_type = models.CharField(_("content type"), max_length=40)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return f"{self.case_id}: {self.file.name}"
