"""History from day one: existing Qonto invoices attached to their HubSpot deals (``services``),
conservatively (``connector.invoicing.history``), with the doubtful ones left to a person."""
