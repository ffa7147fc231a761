"""The narrow seam between the case workflow and everything that reacts to it.

``case_changed`` is sent after the transaction that changed a case has committed,
with ``case_id``, ``action`` (a transition name or ``extend``, ``callback``,
``register``) and ``event_id``. Receivers (the newsroom, caches) must not assume
they run inside that transaction, and must be safe to run twice.
"""

from django.dispatch import Signal

case_changed = Signal()
