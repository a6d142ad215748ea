"""Rules of the appointments domain: pure Python, no Chalice import."""
