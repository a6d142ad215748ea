"""Pydantic models for appointments request bodies and responses."""
