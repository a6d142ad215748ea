"""HTTP routes of the auth domain (thin handlers: authenticate, validate, call one use case,
answer), one module per concern, all on one Blueprint (`blueprint`):

- `routes_accounts`: /register, /login, /logout, /me, /me/access-log, /password/update
- `routes_recovery`: /verify/contact/send|confirm, /verify/contact/link/{token}, /password/forgot|reset
- `routes_directory`: /doctors, /doctor/{id} (public)
- `routes_records`: /medical-history, /medical-history/{id}, /patient/{id}/complete-data
- `routes_claims`: /contact/claim, /contact/claim/confirm (a contact an unverified account holds)
- `routes_admin`: /admin/users, /admin/user/{id}, /admin/user/{id}/approval|active|contact|mfa
- `routes_mfa`: /mfa/totp/setup|confirm, DELETE /mfa/totp, /login/mfa
"""

from functions.auth import (  # noqa: F401  (importing registers the routes)
    routes_accounts,
    routes_admin,
    routes_claims,
    routes_directory,
    routes_mfa,
    routes_records,
    routes_recovery,
)
from functions.auth.blueprint import bp

__all__ = ["bp"]
