/**
 * Issue 12, the card part: what the card shows is what is true in Qonto, in French time, with the
 * next step one click away. Each test fails on the card before these changes.
 */
import { describe, expect, it } from 'vitest';
import { Alert, Button, Checkbox, Link, List, LoadingSpinner, Select, Text } from '@hubspot/ui-extensions';
import type { CardData } from '../api';
import { FakeBackend, allText, cardData, invoice, json, renderCard } from './helpers';

const CARD = 'GET /deals/123/card';
const REFRESH = 'POST /deals/123/refresh';
const CREATE = 'POST /deals/123/invoices';

type Renderer = ReturnType<typeof renderCard>;

async function ready(r: Renderer) {
  await r.waitFor(() => expect(r.maybeFindByTestId(LoadingSpinner, 'card-loading')).toBeNull());
}

const allowed = { enabled: true, reason: null, reason_code: null };
const FRENCH_VAT = {
  regime: 'france' as const,
  country: 'FR',
  vat_number: null,
  choice_required: false,
  modes: ['standard' as const],
  default_mode: 'standard' as const,
  locked_mode: null,
  reverse_charge_mention: null,
};

function truth(overrides: Partial<CardData> = {}): CardData {
  return cardData({
    status: { code: 'ready', message: null },
    actions: { full: allowed, deposit: allowed, balance: allowed },
    vat: FRENCH_VAT,
    company: { id: '301', name: 'ACME Industrie SAS', url: 'https://app.hubspot.com/contacts/4567/record/0-2/301' },
    last_read_at: null,
    ...overrides,
  });
}

describe('Actualiser reads Qonto now and says when', () => {
  it('posts to the refresh endpoint, shows the fresh data and the read time in Paris time', async () => {
    const before = truth({ invoices: [invoice({ id: 'a', status: 'draft' })], last_read_at: '2026-11-25T08:00:00Z' });
    const after = truth({
      invoices: [invoice({ id: 'a', status: 'unpaid', number: 'F-2026-0001' })],
      last_read_at: '2026-11-25T09:05:00Z',
    });
    const backend = new FakeBackend().on(CARD, () => json(200, before)).on(REFRESH, () => json(200, after));
    backend.install();
    const r = renderCard();
    await ready(r);
    // 08:00 UTC is 09:00 in Paris in November: never the browser's UTC.
    expect(r.findByTestId(Text, 'last-read').text).toBe('Lu dans Qonto le 25/11/2026 09:00 (heure de Paris)');

    r.findByTestId(Button, 'refresh').trigger('onClick');
    await r.waitFor(() => expect(r.findByTestId(Text, 'last-read').text).toContain('10:05'));
    expect(backend.callsTo(REFRESH)).toHaveLength(1);
    expect(backend.callsTo(REFRESH)[0].query.portalId).toBe('4567');
    expect(allText(r.findByTestId(Text, 'last-read'))).toBe('Lu dans Qonto le 25/11/2026 10:05 (heure de Paris)');
    expect(r.mocks.actions.refreshObjectProperties.callCount).toBe(1);
  });

  it('a refresh Qonto cannot answer keeps what is shown and says why', async () => {
    const backend = new FakeBackend()
      .on(CARD, () => json(200, truth({ invoices: [invoice({ id: 'a' })] })))
      .on(REFRESH, () => json(503, { error: { code: 'qonto_unavailable', message: 'Qonto ne répond pas pour le moment.' } }));
    backend.install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'refresh').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'refresh-error'));
    expect(r.findByTestId(Alert, 'refresh-error').text).toBe('Qonto ne répond pas pour le moment.');
    expect(r.maybeFindByTestId(Text, 'no-invoices')).toBeNull();
  });
});

describe('links', () => {
  it('Ouvrir dans Qonto opens the seller’s draft; the payment link appears only once finalized', async () => {
    const draft = invoice({ id: 'd', status: 'draft', qonto_url: 'https://app.qonto.com/organizations/acme/receivable-invoices/d', payment_url: null });
    const unpaid = invoice({
      id: 'u',
      status: 'unpaid',
      number: 'F-1',
      qonto_url: 'https://app.qonto.com/organizations/acme/receivable-invoices/u',
      payment_url: 'https://pay.qonto.com/invoices/u',
    });
    new FakeBackend().on(CARD, () => json(200, truth({ invoices: [draft, unpaid] }))).install();
    const r = renderCard();
    await ready(r);
    expect(r.findByTestId(Link, 'qonto-link-d').props.href).toEqual({ url: draft.qonto_url, external: true });
    expect(r.maybeFindByTestId(Link, 'payment-link-d')).toBeNull();
    expect(r.findByTestId(Link, 'payment-link-u').props.href).toEqual({ url: 'https://pay.qonto.com/invoices/u', external: true });
    expect(r.findByTestId(Link, 'payment-link-u').text).toBe('Lien de paiement client');
  });
});

describe('a fully invoiced deal', () => {
  it('disables every button with one reason, never says "prête" nor advises a balance', async () => {
    const reason = 'Il ne reste rien à facturer sur la transaction « Refonte site » : les factures existantes couvrent déjà tout son montant.';
    const off = { enabled: false, reason, reason_code: 'nothing_left' };
    new FakeBackend()
      .on(CARD, () =>
        json(200, truth({ status: { code: 'fully_invoiced', message: reason }, actions: { full: off, deposit: off, balance: off } })),
      )
      .install();
    const r = renderCard();
    await ready(r);
    expect(['generate-full', 'generate-deposit', 'generate-balance'].map((id) => r.findByTestId(Button, id).props.disabled)).toEqual([
      true,
      true,
      true,
    ]);
    expect(r.maybeFindByTestId(Text, 'readiness-ok')).toBeNull();
    expect(r.findByTestId(Alert, 'fully-invoiced').text).toBe(reason);
    const reasons = r.findAll(Text).filter((node) => node.props.testId === 'disabled-reason');
    expect(reasons).toHaveLength(1);
    expect(reasons[0].text).toBe(reason);
  });

  it('a refusal whose message is its only problem says it once', async () => {
    const message = 'Il ne reste rien à facturer sur la transaction « Refonte site ».';
    new FakeBackend()
      .on(CARD, () => json(200, truth()))
      .on(CREATE, () => json(422, { error: { code: 'nothing_left', message, problems: [{ code: 'nothing_left', field: 'kind', message }] } }))
      .install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'generate-balance').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'refused-alert'));
    expect(r.findByTestId(Alert, 'refused-alert').text).toBe(message);
    expect(r.maybeFindByTestId(List, 'refused-problems')).toBeNull();
  });
});

describe('missing data', () => {
  it('plain French, no field codes, and a link to open the company in HubSpot', async () => {
    new FakeBackend()
      .on(CARD, () =>
        json(
          200,
          truth({
            status: { code: 'not_ready', message: null },
            readiness: {
              ready: false,
              problems: [
                {
                  code: 'missing_siret',
                  field: 'company.siret',
                  message: 'Le SIRET de l’entreprise « Boulangerie Élise » est manquant.',
                  url: 'https://app.hubspot.com/contacts/4567/record/0-2/302',
                },
                { code: 'invalid_quantity', field: 'line_items[1].quantity', message: 'La quantité de la ligne 2 n’est pas valide.' },
              ],
            },
          }),
        ),
      )
      .install();
    const r = renderCard();
    await ready(r);
    const text = allText(r.findByTestId(List, 'readiness-problems'));
    expect(text).not.toMatch(/company\.siret|line_items\[/);
    expect(text).toContain('Champ à corriger : Entreprise › SIRET');
    expect(text).toContain('Champ à corriger : Ligne 2 › quantité');
    const link = r.findByTestId(Link, 'problem-link-missing_siret');
    expect(link.text).toBe('Ouvrir l’entreprise dans HubSpot');
    expect(link.props.href).toEqual({ url: 'https://app.hubspot.com/contacts/4567/record/0-2/302', external: true });
  });
});

describe('a client outside France', () => {
  const belgian = {
    regime: 'eu' as const,
    country: 'BE',
    vat_number: 'BE0403170701',
    choice_required: true,
    modes: ['reverse_charge' as const, 'standard' as const],
    default_mode: 'reverse_charge' as const,
    locked_mode: null,
    reverse_charge_mention: 'Autoliquidation : TVA due par le preneur.',
  };
  const warning = {
    code: 'client_in_eu',
    field: 'vat_mode',
    message: '« Brüssel Consulting SPRL » est établie en Belgique (n° de TVA BE0403170701) : choisissez l’autoliquidation ou la TVA française.',
  };

  it('warns before invoicing, offers reverse charge by default and sends the chosen mode', async () => {
    const backend = new FakeBackend()
      .on(CARD, () => json(200, truth({ vat: belgian, readiness: { ready: true, problems: [], warnings: [warning] } })))
      .on(CREATE, () => json(202, { invoice: invoice({ id: 'rc', status: 'draft', vat_mode: 'reverse_charge' }) }));
    backend.install();
    const r = renderCard();
    await ready(r);
    expect(allText(r.findByTestId(Alert, 'readiness-warnings'))).toContain('est établie en Belgique');
    const select = r.findByTestId(Select, 'vat-mode');
    expect(select.props.value).toBe('reverse_charge');
    expect(select.props.options.map((o: { label: string }) => o.label)).toEqual([
      'Autoliquidation (0 %, TVA due par le client)',
      'TVA française',
    ]);
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));
    expect(backend.callsTo(CREATE)[0].body).toMatchObject({ kind: 'full', vat_mode: 'reverse_charge' });
  });
});

describe('two HubSpot companies with one SIRET', () => {
  it('needs an explicit confirmation before billing the other company’s Qonto client', async () => {
    const shared = {
      code: 'shared_tax_id',
      field: 'company.siret',
      message: 'Le SIRET 73282932000074 de « ACME Bis » est déjà celui du client Qonto « ACME Industrie SAS ».',
    };
    const backend = new FakeBackend()
      .on(CARD, () => json(200, truth({ readiness: { ready: true, problems: [], warnings: [shared] } })))
      .on(CREATE, () => json(202, { invoice: invoice({ id: 's', status: 'draft' }) }));
    backend.install();
    const r = renderCard();
    await ready(r);
    expect(r.findByTestId(Button, 'generate-full').props.disabled).toBe(true);
    r.findByTestId(Checkbox, 'confirm-shared-client').trigger('onChange', true as never);
    await r.waitFor(() => expect(r.findByTestId(Button, 'generate-full').props.disabled).toBe(false));
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));
    expect(backend.callsTo(CREATE)[0].body).toMatchObject({ confirm_shared_client: true });
  });
});
