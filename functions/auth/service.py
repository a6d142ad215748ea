"""Rules of the auth domain: pure Python, no Chalice import."""
