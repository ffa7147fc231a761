"""Open311 GeoReport v2 (``/open311/v2/``): the hotline's door for other systems.

The endpoints call the same services as the back office (``case_register``) and
read cases through the same redaction as the public pages.
"""
