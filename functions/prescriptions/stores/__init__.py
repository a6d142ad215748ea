"""MongoDB access of the prescriptions domain, one module per collection it owns.

Each function is one database statement with a docstring stating what it guarantees; the
indexes are declared beside them (`functions.registry` lists them for `ensure-indexes`).
"""
