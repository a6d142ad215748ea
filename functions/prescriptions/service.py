"""Rules of the prescriptions domain: pure Python, no Chalice import."""
