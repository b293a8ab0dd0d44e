"""Settings › Automation: the stage rule is chosen among the portal's pipelines, checked, saved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from connector.models import AuditLog, StageRule
from sandbox import demo
from sandbox.core import FaultRule
from tests.hubspot_app.sandbox_fixtures import (  # noqa: F401 - fixtures
    hubspot,
    running_sandbox_fixture,
    sandbox_fixture,
    signed_in_fixture,
)

pytestmark = pytest.mark.django_db
URL = "/settings"


def test_the_page_lists_the_portals_stages_by_pipeline(client, sandbox, signed_in) -> None:
    hubspot(sandbox).add_pipeline(
        demo.PORTAL_ID, "Renouvellements", [("901", "Devis signé"), ("902", "Perdu")], pipeline_id="777"
    )
    page = client.get(URL).content.decode()
    assert "Automatisation" in page
    assert "Créer une facture Qonto" in page
    assert '<optgroup label="Sales Pipeline">' in page
    assert 'value="default:closedwon"' in page
    assert '<optgroup label="Renouvellements">' in page
    assert 'value="777:901">Devis signé' in page
    assert not StageRule.objects.exists()  # off until saved


def test_saving_the_rule(client, sandbox, signed_in) -> None:
    response = client.post(
        URL,
        {
            "form": "automation",
            "rule-enabled": "on",
            "rule-stage": "default:closedwon",
            "rule-kind": "deposit",
            "rule-percentage": "12,5",
        },
    )
    assert response.status_code == 302
    rule = StageRule.objects.get(tenant=signed_in)
    assert (rule.enabled, rule.pipeline_id, rule.stage_id, rule.kind) == (
        True,
        "default",
        "closedwon",
        "deposit",
    )
    assert (rule.pipeline_label, rule.stage_label) == ("Sales Pipeline", "Conclu gagné")
    assert rule.percentage == Decimal("12.5")
    assert rule.active_since is not None
    [entry] = AuditLog.objects.filter(action=AuditLog.Action.STAGE_RULE_CHANGED)
    assert entry.tenant == signed_in
    assert entry.detail == {
        "enabled": True,
        "stage": "Sales Pipeline › Conclu gagné",
        "kind": "deposit",
        "percentage": "12.5",
    }
    page = client.get(URL).content.decode()
    assert "Active depuis le" in page
    assert 'value="12,5"' in page

    client.post(URL, {"form": "automation", "rule-stage": "default:closedwon", "rule-kind": "deposit"})
    rule.refresh_from_db()
    assert rule.enabled is False
    assert rule.stage_id == "closedwon"  # switched off, the choice is kept


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"rule-enabled": "on", "rule-stage": "", "rule-kind": "full"}, "Choisissez la phase qui déclenche"),
        (
            {"rule-enabled": "on", "rule-stage": "default:closedwon", "rule-kind": "deposit"},
            "Indiquez le pourcentage",
        ),
        (
            {
                "rule-enabled": "on",
                "rule-stage": "default:closedwon",
                "rule-kind": "deposit",
                "rule-percentage": "150",
            },
            "entre 1 et 99",
        ),
        (
            {"rule-enabled": "on", "rule-stage": "nope:nope", "rule-kind": "full"},
            "Sélectionnez un choix valide",
        ),
    ],
)
def test_a_wrong_rule_says_what_to_fix(client, sandbox, signed_in, data, error) -> None:
    response = client.post(URL, {"form": "automation", **data})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not StageRule.objects.exists()


def test_hubspot_unreachable_keeps_the_saved_stage(client, sandbox, signed_in) -> None:
    client.post(
        URL,
        {"form": "automation", "rule-enabled": "on", "rule-stage": "default:closedwon", "rule-kind": "full"},
    )
    cache.clear()
    sandbox.sandbox.faults.add(FaultRule(provider="hubspot", path="/crm/pipelines/", status=503, count=None))
    page = client.get(URL).content.decode()
    assert "la liste de vos pipelines n'a pas pu être chargée" in page
    assert "Conclu gagné (HubSpot ne répond pas" in page
