"""Rules of the pharmacy domain: pure Python, no Chalice import."""
