"""The demo portal's content (``sandbox.demo`` holds the ids shared with the other simulators)."""

from __future__ import annotations

from sandbox import demo
from sandbox.hubspot.builders import Builders
from sandbox.hubspot.portals import Portals
from sandbox.hubspot.properties import Properties
from sandbox.hubspot.tax_rates import TaxRates

DEMO_TAX_RATE_IDS: dict[str, str] = {
    "20": "10000001",
    "10": "10000002",
    "5.5": "10000003",
    "2.1": "10000004",
    "19.6": "10000005",
}
DEMO_LINE_ITEM_IDS = [f"4010000000{i}" for i in range(1, 8)]
DEMO_CONTACT_ID = "20100000000"
OTHER_COMPANY_ID = "30100000011"
OTHER_DEAL_ID = "51200000011"


class DemoSeed(Builders, TaxRates, Properties, Portals):
    """Seeds the demo portals."""

    def seed_demo(self) -> None:
        with self.lock:
            if str(demo.PORTAL_ID) in self.state["portals"]:
                return
        self.create_portal(
            demo.PORTAL_ID,
            domain=demo.HUB_DOMAIN,
            name="Agence Démo",
            users=[(demo.INSTALLER_USER_ID, demo.INSTALLER_EMAIL), (demo.SALES_USER_ID, demo.SALES_EMAIL)],
        )
        self.create_portal(
            demo.OTHER_PORTAL_ID,
            domain=demo.OTHER_HUB_DOMAIN,
            name="Autre Portail",
            users=[(8001, demo.OTHER_INSTALLER_EMAIL)],
        )
        p = demo.PORTAL_ID
        for portal_id in (demo.PORTAL_ID, demo.OTHER_PORTAL_ID):
            self.add_tax_rate(portal_id, "TVA 20 %", 20, rate_id=DEMO_TAX_RATE_IDS["20"])
            self.add_tax_rate(portal_id, "TVA 10 %", 10, rate_id=DEMO_TAX_RATE_IDS["10"])
            self.add_tax_rate(portal_id, "TVA 5,5 %", 5.5, rate_id=DEMO_TAX_RATE_IDS["5.5"])
            self.add_tax_rate(portal_id, "TVA 2,1 %", 2.1, rate_id=DEMO_TAX_RATE_IDS["2.1"])
            self.add_tax_rate(
                portal_id, "Ancien taux 19,6 %", 19.6, rate_id=DEMO_TAX_RATE_IDS["19.6"], active=False
            )
            # The portal "already had" a SIRET property: tenants may pick it instead of qonto_siret.
            self.define_property(portal_id, "companies", "siret", label="SIRET")
            # And the VAT-number property our setup creates (so the demo's Belgian client has one).
            self.define_property(
                portal_id, "companies", "qonto_vat_number", label="N° de TVA intracommunautaire"
            )
        self.create_company(
            p,
            object_id=demo.COMPANY_COMPLETE_ID,
            name="ACME Industrie SAS",
            domain="acme-industrie.fr",
            address="12 rue de la Paix",
            address2="Bâtiment B, 3e étage",
            city="Paris",
            zip="75002",
            country="France",
            phone="+33 1 23 45 67 89",
            siret=demo.COMPLETE_SIRET,
        )
        self.create_company(
            p,
            object_id=demo.COMPANY_NO_SIRET_ID,
            name="Boulangerie Élise",
            address="3 place du Marché",
            city="Lyon",
            zip="69002",
            country="France",
        )
        self.create_company(
            p,
            object_id=demo.COMPANY_FOREIGN_ID,
            name="Brüssel Consulting SPRL",
            address="Avenue Louise 54",
            city="Bruxelles",
            zip="1000",
            country="Belgique",
            qonto_vat_number=demo.FOREIGN_VAT_NUMBER,
        )
        contact = self.create_contact(
            p,
            object_id=DEMO_CONTACT_ID,
            firstname="Claire",
            lastname="Martin",
            email="claire.martin@acme-industrie.fr",
        )
        self.associate(p, "contacts", contact["id"], "companies", demo.COMPANY_COMPLETE_ID, 1)
        closedate = "2026-11-20T10:00:00Z"
        # 7000 + 1800 + 1800 + 1400 = 12000, the deal amount.
        self.create_deal(
            p,
            object_id=demo.DEAL_COMPLETE_ID,
            company_id=demo.COMPANY_COMPLETE_ID,
            dealname="Refonte site – Agence & Co",
            amount="12000",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {
                    "id": DEMO_LINE_ITEM_IDS[0],
                    "name": "Conception et développement du site vitrine responsive (pages éditoriales)",
                    "quantity": "1",
                    "price": "7000.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                    "hs_position_on_quote": "0",
                },
                {
                    "id": DEMO_LINE_ITEM_IDS[1],
                    "name": "Formation à l'outil d'édition",
                    "quantity": "2",
                    "price": "1000.00",
                    "hs_discount_percentage": "10",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                    "hs_position_on_quote": "1",
                },
                {
                    "id": DEMO_LINE_ITEM_IDS[2],
                    "name": "Hébergement et maintenance (12 mois)",
                    "quantity": "12",
                    "price": "150.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["10"],
                    "hs_position_on_quote": "2",
                },
                {
                    "id": DEMO_LINE_ITEM_IDS[3],
                    "name": "Guide utilisateur imprimé",
                    "quantity": "10",
                    "price": "140.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["5.5"],
                    "hs_position_on_quote": "3",
                },
            ],
        )
        self.associate(p, "deals", demo.DEAL_COMPLETE_ID, "contacts", contact["id"], 3)
        self.create_deal(
            p,
            object_id=demo.DEAL_AMOUNT_ONLY_ID,
            company_id=demo.COMPANY_COMPLETE_ID,
            dealname="Audit SEO trimestriel",
            amount="2400",
            dealstage="contractsent",
            closedate=closedate,
        )
        self.create_deal(
            p,
            object_id=demo.DEAL_NO_SIRET_ID,
            company_id=demo.COMPANY_NO_SIRET_ID,
            dealname="Site e-commerce – Boulangerie Élise",
            amount="3500",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {
                    "id": DEMO_LINE_ITEM_IDS[4],
                    "name": "Boutique en ligne clé en main",
                    "quantity": "1",
                    "price": "3500.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                }
            ],
        )
        self.create_deal(
            p,
            object_id=demo.DEAL_FOREIGN_ID,
            company_id=demo.COMPANY_FOREIGN_ID,
            dealname="Mission de conseil – Bruxelles",
            amount="5000",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {
                    "id": DEMO_LINE_ITEM_IDS[5],
                    "name": "Atelier stratégie digitale (5 jours)",
                    "quantity": "5",
                    "price": "1000.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                }
            ],
        )
        o = demo.OTHER_PORTAL_ID
        self.create_company(
            o,
            object_id=OTHER_COMPANY_ID,
            name="Société Autre SARL",
            address="8 quai des Chartrons",
            city="Bordeaux",
            zip="33000",
            country="France",
            siret="55210055400013",
        )
        self.create_deal(
            o,
            object_id=OTHER_DEAL_ID,
            company_id=OTHER_COMPANY_ID,
            dealname="Projet de l'autre portail",
            amount="1500",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {"id": DEMO_LINE_ITEM_IDS[6], "name": "Prestation", "quantity": "1", "price": "1500.00"}
            ],
        )
