"""The signaling domain: video calls over the WebSocket API, chat, doctor presence and emergencies."""
