"""HTTP routes of the appointments domain (thin handlers only)."""

from functions.core.http import Blueprint

bp = Blueprint(__name__)
