"""HTTP routes of the appointments domain (thin handlers only), one module per concern:

- `scheduling`: the doctor's side of scheduling, `/doctor/availability` and `/doctor/time-off`
  (stored on the doctor's user document and read by the slots and booking rules);
- `booking`: a day's free slots, a new booking, the caller's list and one appointment;
- `lifecycle`: confirm, complete, no-show, cancel (and the old frontend's DELETE), reschedule;
- `waitlist`: join a doctor's waitlist, the caller's entries, leave, accept or decline an offer.
"""

from functions.appointments.routes import booking, lifecycle, scheduling, waitlist  # noqa: F401  (importing registers them)
from functions.appointments.routes.blueprint import bp

__all__ = ["bp"]
