from django.utils.functional import SimpleLazyObject


def redaction(request):
    """Default redaction rules for public templates: the global censor rules.

    Pages about a case put their own rules in their context, which wins.
    """
    from tracking.redaction import censor_rules

    return {"redaction_rules": SimpleLazyObject(censor_rules)}
