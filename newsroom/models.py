"""Wagtail pages of the city newspaper. The newsroom issue fills this in."""

from django.utils.translation import gettext_lazy as _
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, "intro"]

    class Meta:
        verbose_name = _("home page")
