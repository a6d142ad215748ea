"""Pydantic models for pharmacy request bodies and responses."""
