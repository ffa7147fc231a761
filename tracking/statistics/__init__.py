"""The hotline's figures, one module per source: :mod:`.calls` (calls received,
the busiest day)."""

from .calls import busiest_day, calls_per_day, calls_received

__all__ = ["busiest_day", "calls_per_day", "calls_received"]
