"""HTTP routes of the emergency line (thin handlers only), one module per concern:

- `routes_ivr`: Twilio's voice webhooks `/ivr/voice|menu|dial|pincode` (TwiML answers)
- `routes_hospitals`: the hospitals admin `/admin/hospitals...`
- `routes_on_call`: the doctors' on-call switch `/doctor/on-call` (who the line rings)
"""

from functions.emergency import (  # noqa: F401  (importing registers the routes)
    routes_hospitals,
    routes_ivr,
    routes_on_call,
)
from functions.emergency.blueprint import bp

__all__ = ["bp"]
