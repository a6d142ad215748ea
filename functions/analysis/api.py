"""The public seam of analysis (AI analysis of medical images and videos).

The only module other domains may import from analysis. None calls it yet: what one needs goes
here, as a function that imports the domain's internals when it is called (as in
`functions/appointments/api.py`).
"""

__all__: list[str] = []
