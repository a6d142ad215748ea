"""Pydantic models for signaling request bodies and responses."""
