"""Pydantic models for prescriptions request bodies and responses."""
