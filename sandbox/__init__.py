"""Local simulators of HubSpot, Qonto and Stripe (development, demo and tests only).

Production code never imports this package.
"""
