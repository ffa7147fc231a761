"""API keys of Open311 clients.

A key is shown once when it is issued and stored only as its SHA-256 digest, so a
copy of the database does not give anyone a working key. Revoking keeps the row
(the cases it created still name their client).
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_BYTES = 32
PREFIX_LENGTH = 8


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ApiClientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def for_key(self, key: str | None) -> ApiClient | None:
        """The active client whose key this is, or None."""
        if not key or len(key) > 200:
            return None
        return self.active().filter(key_digest=digest(key)).first()


class ApiClient(models.Model):
    """A system allowed to post requests through Open311 (a city app, a partner)."""

    name = models.CharField(_("client name"), max_length=100)
    key_prefix = models.CharField(_("key starts with"), max_length=PREFIX_LENGTH)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, name: str, *, user=None) -> tuple[ApiClient, str]:
        """A new client and its key, which is returned here and never again."""
        key = secrets.token_urlsafe(KEY_BYTES)
        client = cls.objects.create(
            name=name.strip(),
            key_prefix=key[:PREFIX_LENGTH],
            key_digest=digest(key),
            created_by=user,
        )
        return client, key

    def revoke(self, now=None) -> None:
        if self.revoked_at is None:
            self.revoked_at = now or timezone.now()
            self.save(update_fields=["revoked_at"])
