"""MongoDB access of the pharmacy domain, one module per collection it owns.

Each function is one database statement (or one bounded read) with a docstring stating what it
guarantees; `functions.pharmacy.store` gathers their `INDEXES` for `ensure-indexes`.
"""
