"""Template helpers of the public site."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from tracking.redaction import redact

register = template.Library()


@register.filter
def redact_with(value, rules):
    """Pass rendered public output through the one redaction function.

    ``rules`` are the page's rules (its case's citizen and censor rules, or the
    global ones); masks only ever replace text with asterisks or 某, so HTML that
    was safe stays safe.
    """
    text = redact(str(value), rules=rules or [])
    return mark_safe(text) if isinstance(value, SafeString) else text
