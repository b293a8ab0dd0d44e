"""The demo data set shared by the three simulators, `make run`, the tests and the benchmarks.

Only constants live here; each simulator seeds its own part from them in ``seed_demo()``.
Everything is invented: no real person, company, bank account or key.
"""

from __future__ import annotations

# --- HubSpot -------------------------------------------------------------------------------------
PORTAL_ID = 12345678  # hub_id of the demo portal
HUB_DOMAIN = "agence-demo.hubspot.com"
INSTALLER_USER_ID = 7001
INSTALLER_EMAIL = "admin@agence-demo.fr"
SALES_USER_ID = 7002
SALES_EMAIL = "commercial@agence-demo.fr"

# A second portal, for tenant-isolation tests.
OTHER_PORTAL_ID = 87654321
OTHER_HUB_DOMAIN = "autre-portail.hubspot.com"
OTHER_INSTALLER_EMAIL = "admin@autre-portail.fr"

# --- Qonto ---------------------------------------------------------------------------------------
QONTO_LOGIN = "agence-demo-4242"  # the organisation slug ("login") a tenant types
QONTO_SECRET_KEY = "qsk_demo_7f3a9c2e51b84d06a1c9"
QONTO_LEGAL_NAME = "Agence Démo SAS"
QONTO_IBAN_MAIN = "FR7616798000010000005663951"
QONTO_IBAN_SECOND = "FR4916798000010000005663952"

OTHER_QONTO_LOGIN = "autre-org-1111"
OTHER_QONTO_SECRET_KEY = "qsk_other_0b1c2d3e4f5a6b7c8d9e"
OTHER_QONTO_LEGAL_NAME = "Autre Organisation SARL"
OTHER_QONTO_IBAN = "FR1630003000700005012345678"

# --- Stripe --------------------------------------------------------------------------------------
STRIPE_PRODUCT_ID = "prod_sandbox_connector"
STRIPE_PRICE_MONTHLY = "price_sandbox_monthly"  # 39.00 EUR / month, excl. VAT
STRIPE_PRICE_ANNUAL = "price_sandbox_annual"  # 390.00 EUR / year, excl. VAT
STRIPE_PRICE_MONTHLY_CENTS = 3900
STRIPE_PRICE_ANNUAL_CENTS = 39000

# --- Demo CRM content (HubSpot) ------------------------------------------------------------------
# Companies: one complete (valid SIRET), one without SIRET, one foreign.
COMPANY_COMPLETE_ID = "30100000001"
COMPANY_NO_SIRET_ID = "30100000002"
COMPANY_FOREIGN_ID = "30100000003"
COMPLETE_SIRET = "73282932000074"  # passes the Luhn check

# Deals.
DEAL_COMPLETE_ID = "51200000001"  # several VAT rates, a discount, accented names
DEAL_AMOUNT_ONLY_ID = "51200000002"  # no line items, only an amount
DEAL_NO_SIRET_ID = "51200000003"  # company lacks its SIRET
DEAL_FOREIGN_ID = "51200000004"  # Belgian company
FOREIGN_VAT_NUMBER = "BE0512345684"  # invented, passes Belgium's check digits (mod 97)
