"""MongoDB access of the emergency line, one module per collection it owns (`hospitals`,
`on_call`, `callbacks`: `ivr_callbacks`). Users are read through `core.users`."""
