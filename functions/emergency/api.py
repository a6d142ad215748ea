"""The public seam of emergency (the emergency phone line, hospitals, doctors on call).

The only module other domains may import from emergency. None calls it yet: what one needs goes
here, as a function that imports the domain's internals when it is called (as in
`functions/appointments/api.py`).
"""

__all__: list[str] = []
