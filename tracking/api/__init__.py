"""The officer and department API (``/api/v1/``), Django REST framework.

Views call the services and the action registry of the back office: a rule that
changes there changes here. The OpenAPI schema is at ``/api/v1/schema/``.
"""
