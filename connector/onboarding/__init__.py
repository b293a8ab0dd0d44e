"""Onboarding and settings pages: connect Qonto (step 2 of 3), then the tenant's settings."""
