"""The hotline's figures.

- :mod:`.rollups`: the daily rollup tables, kept current in the transaction of
  each change and rebuilt from the raw rows (``manage.py rebuild_statistics``);
- :mod:`.figures`: what the public page, the API and the dashboard show, read
  from the rollups (:class:`~.figures.Report`);
- :mod:`.periods`: the periods figures are asked for;
- :mod:`.calls`: calls received and the busiest day, straight from the call log.
"""

from .calls import busiest_day, calls_per_day, calls_received

__all__ = ["busiest_day", "calls_per_day", "calls_received"]
