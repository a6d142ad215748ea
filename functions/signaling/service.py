"""Rules of the signaling domain: pure Python, no Chalice import."""
