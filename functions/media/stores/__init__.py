"""MongoDB access of media, one module per collection it owns (`assets`: `media_assets`)."""
