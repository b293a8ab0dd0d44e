"""Automation: invoices requested by HubSpot itself, through the same pipeline as the card.

Two triggers, one ``AutomationRun`` each (deduplicated on HubSpot's id, so a redelivery never
makes a second invoice):

- the workflow action "Créer une facture Qonto" (``runs.automation_action_accept``): HubSpot
  POSTs the execution to our ``actionUrl``; we answer ``BLOCK`` and complete the callback when the
  invoice settles;
- the optional stage rule (``stage_rule``): a signed ``dealstage`` webhook for a deal entering
  the tenant's chosen stage.

Both go through ``connector.invoices.request.invoice_request_create`` (validation, row lock,
idempotency) and write the outcome on the deal (``qonto_automation_status`` /
``qonto_automation_message``). Modules: ``runs`` (the run's steps), ``stage_rule`` (the rule and
the webhook intake), ``messages`` (outcome texts in French and English).
"""
