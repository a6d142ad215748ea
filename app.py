"""Composition root: every blueprint, and later the WebSocket handlers and schedules."""

from functions.appointments.routes import bp as appointments
from functions.auth.routes import bp as auth
from functions.core.app_factory import create_app
from functions.health.routes import bp as health
from functions.pharmacy.routes import bp as pharmacy
from functions.prescriptions.routes import bp as prescriptions
from functions.signaling.routes import bp as signaling

app = create_app("cureconnect", [health, auth, appointments, pharmacy, prescriptions, signaling])
