"""Registered hooks: how the case workflow reaches other apps without importing them.

An app registers a callable under a name in its ``AppConfig.ready()``; tracking
calls it by name. With nothing registered, :func:`call` returns ``None``, so the
workflow runs (and is tested) without the newsroom.

Names in use:

``create_story``
    ``(case_id: int, user=None, on_created=None) -> object``: create (or return)
    the Hot Tracking story draft of a case. Must be idempotent, and commits on its
    own (called outside the case's transactions); ``on_created(story)`` runs once,
    in the transaction that completes a new story (the object has ``case`` and
    ``title``).

``get_story``
    ``(case_id: int) -> object | None``: the case's story, if it has one; the
    object has ``title`` and ``edit_url``.

``without_story``
    ``(cases: QuerySet[Case], limit: int) -> list[int]``: the ids of up to ``limit``
    of these cases that have no complete story, oldest escalation first.

``story_cases_editable_by``
    ``(user) -> QuerySet[Case] | None``: the cases whose story ``user`` may edit
    (an editor adds censor rules for the case of a story they write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_registry: dict[str, Callable[..., Any]] = {}


def register(name: str, func: Callable[..., Any]) -> None:
    _registry[name] = func


def unregister(name: str) -> None:
    _registry.pop(name, None)


def is_registered(name: str) -> bool:
    return name in _registry


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    func = _registry.get(name)
    return func(*args, **kwargs) if func else None
