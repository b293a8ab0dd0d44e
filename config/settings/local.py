"""`make run`: everything on one machine, talking to the sandbox simulators on port 8010.

Every default here is for local use only; production reads real values (config/settings/production.py).
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="local-dev-only-not-secret-6b0d7c1e2f3a4b5c6d7e8f90")
# A fixed Fernet key for the local SQLite file only (never use it elsewhere).
FIELD_ENCRYPTION_KEY = env.list(
    "FIELD_ENCRYPTION_KEY", default=["c2FuZGJveC1sb2NhbC1rZXktMDEyMzQ1Njc4OWFiY2Q="]
)

SANDBOX_BASE = env("SANDBOX_BASE", default="http://127.0.0.1:8010").rstrip("/")
HUBSPOT_CLIENT_ID = env("HUBSPOT_CLIENT_ID", default="sandbox-client-id")
HUBSPOT_CLIENT_SECRET = env("HUBSPOT_CLIENT_SECRET", default="sandbox-client-secret-0000-000000000000")
HUBSPOT_APP_ID = env("HUBSPOT_APP_ID", default="424242")
HUBSPOT_API_BASE = env("HUBSPOT_API_BASE", default=f"{SANDBOX_BASE}/hubspot").rstrip("/")
HUBSPOT_AUTH_BASE = env("HUBSPOT_AUTH_BASE", default=f"{SANDBOX_BASE}/hubspot-app").rstrip("/")
QONTO_API_BASE = env("QONTO_API_BASE", default=f"{SANDBOX_BASE}/qonto").rstrip("/")
QONTO_APP_BASE = env("QONTO_APP_BASE", default=f"{SANDBOX_BASE}/qonto/app").rstrip("/")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_sandbox")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_sandbox_secret")
STRIPE_PRICE_MONTHLY = env("STRIPE_PRICE_MONTHLY", default="price_sandbox_monthly")
STRIPE_PRICE_ANNUAL = env("STRIPE_PRICE_ANNUAL", default="price_sandbox_annual")
STRIPE_API_BASE = env("STRIPE_API_BASE", default=f"{SANDBOX_BASE}/stripe").rstrip("/")
