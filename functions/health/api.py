"""The public seam of health (the health check).

The only module other domains may import from health. None calls it yet: what one needs goes
here, as a function that imports the domain's internals when it is called (as in
`functions/appointments/api.py`).
"""

__all__: list[str] = []
