"""Pydantic models for auth request bodies and responses."""
