"""The narrow seam between the case workflow and everything that reacts to it.

``case_changed`` is sent after the transaction that changed a case has committed,
with ``case_id``, ``action`` (a transition name or ``extend``, ``callback``,
``register``) and ``event_id``. Receivers (the newsroom, caches) must not assume
they run inside that transaction, and must be safe to run twice.

``case_event_recorded`` is sent inside that transaction, with ``case`` and
``event``, right after the event is written: receivers that owe a notification
record it in the outbox there (``tracking.outbox.send``), so it commits or rolls
back with the change. They must not do slow work.
"""

from django.dispatch import Signal

case_changed = Signal()
case_event_recorded = Signal()

# Sent after a transaction that changed the statistics rollups has committed (a
# case event, a callback, a call): public figures read from them are stale.
statistics_changed = Signal()

# Sent by the overdue scan when a working day has ended (office closing time):
# every "overdue by N working days" shown in public has grown by one.
working_day_ended = Signal()
