"""HTTP routes of the auth domain (thin handlers only)."""

from functions.core.http import Blueprint

bp = Blueprint(__name__)
