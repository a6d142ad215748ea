"""The appointments domain's stores, one module per collection (the claims' store is `claims`)."""
