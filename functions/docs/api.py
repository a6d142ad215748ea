"""The public seam of docs (the API's own description: OpenAPI document, Swagger UI).

The only module other domains may import from docs. None calls it yet: what one needs goes
here, as a function that imports the domain's internals when it is called (as in
`functions/appointments/api.py`).
"""

__all__: list[str] = []
