import { describe, expect, it } from 'vitest';
import { Alert, Button, Input, Link, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import { FakeBackend, allText, cardData, invoice, json, renderCard } from './helpers';

const CARD = 'GET /deals/123/card';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Renderer = ReturnType<typeof renderCard>;

async function ready(r: Renderer) {
  await r.waitFor(() => expect(r.maybeFindByTestId(LoadingSpinner, 'card-loading')).toBeNull());
}

const draft = invoice({ id: 'inv-1', status: 'draft', can_finalize: true, can_send: false });
const finalized = invoice({
  id: 'inv-1',
  status: 'unpaid',
  number: 'F-2026-0001',
  can_finalize: false,
  can_send: true,
  pdf_url: 'https://connector.example.com/invoices/pdf/tok',
  last_action: { id: '1', kind: 'finalize', status: 'succeeded', error: null },
});

describe('finalize and send', () => {
  it('finalizes a draft once, then shows the number and the PDF link', async () => {
    let state = cardData({ invoices: [draft] });
    const backend = new FakeBackend()
      .on(CARD, () => json(200, state))
      .on('POST /invoices/inv-1/finalize', () => {
        state = cardData({ invoices: [finalized] });
        return json(202, { invoice: { ...draft, last_action: { id: '1', kind: 'finalize', status: 'pending', error: null } } });
      })
      .invoiceSequence('inv-1', [finalized]);
    backend.install();
    const r = renderCard();
    await ready(r);
    const button = r.findByTestId(Button, 'finalize-inv-1');
    expect(allText(button)).toBe('Finaliser la facture');
    button.trigger('onClick');
    button.trigger('onClick'); // a double click sends one request
    await r.waitFor(() => expect(r.maybeFindByTestId(Link, 'pdf-link-inv-1')).not.toBeNull());
    const posts = backend.callsTo('POST /invoices/inv-1/finalize');
    expect(posts).toHaveLength(1);
    expect(posts[0].body?.idempotency_key).toMatch(UUID);
    expect(r.findByTestId(Link, 'pdf-link-inv-1').props.href).toEqual({
      url: 'https://connector.example.com/invoices/pdf/tok',
      external: true,
    });
    expect(r.maybeFindByTestId(Button, 'finalize-inv-1')).toBeNull();
    expect(r.findByTestId(Button, 'open-send-inv-1')).toBeTruthy();
  });

  it('sends by e-mail with the typed recipients and says when it was sent', async () => {
    const sent = { ...finalized, sent_at: '2026-11-26T09:30:00Z', einvoicing_label: 'Facture électronique : déposée' };
    let state = cardData({ invoices: [finalized] });
    const backend = new FakeBackend()
      .on(CARD, () => json(200, state))
      .on('POST /invoices/inv-1/send', () => {
        state = cardData({ invoices: [sent] });
        return json(202, { invoice: { ...finalized, last_action: { id: '2', kind: 'send', status: 'pending', error: null } } });
      })
      .invoiceSequence('inv-1', [{ ...sent, last_action: { id: '2', kind: 'send', status: 'succeeded', error: null } }]);
    backend.install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'open-send-inv-1').trigger('onClick');
    expect(r.findByTestId(Input, 'email-title').props.value).toBe('Facture F-2026-0001');
    const input = r.findByTestId(Input, 'send-to');
    // `trigger`'s declared type expects the handler itself (see changeNumber in helpers).
    (input.trigger as unknown as (event: 'onChange', arg: string) => void)('onChange', 'compta@acme.fr, dg@acme.fr');
    r.findByTestId(Button, 'send-inv-1').trigger('onClick');
    await r.waitFor(() => expect(r.maybeFindByTestId(Text, 'sent-at-inv-1')).not.toBeNull());
    const body = backend.callsTo('POST /invoices/inv-1/send')[0].body ?? {};
    expect(body.send_to).toEqual(['compta@acme.fr', 'dg@acme.fr']);
    expect(body.email_title).toBe('Facture F-2026-0001');
    expect(allText(r.findByTestId(Text, 'sent-at-inv-1'))).toMatch(/^Envoyée le /);
    expect(allText(r.findByTestId(Text, 'einvoicing-inv-1'))).toBe('Facture électronique : déposée');
  });

  it('shows the server refusal (409) and keeps the button', async () => {
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData({ invoices: [draft] })))
      .on('POST /invoices/inv-1/finalize', () =>
        json(409, { error: { code: 'not_finalizable', message: 'Seul un brouillon présent dans Qonto peut être finalisé.' } }),
      );
    backend.install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'finalize-inv-1').trigger('onClick');
    await r.waitFor(() => expect(r.maybeFindByTestId(Alert, 'follow-up-error')).not.toBeNull());
    expect(allText(r.findByTestId(Alert, 'follow-up-error'))).toContain('Seul un brouillon');
    expect(r.findByTestId(Button, 'finalize-inv-1').props.disabled).toBe(false);
  });

  it('shows the e-invoicing checklist of a French client', async () => {
    const readiness = {
      ready: true,
      problems: [],
      einvoicing: [
        { code: 'siret' as const, ok: true, label: 'SIREN/SIRET valide' },
        { code: 'vat_number' as const, ok: false, label: 'N° de TVA intracommunautaire' },
      ],
    };
    new FakeBackend().on(CARD, () => json(200, cardData({ readiness }))).install();
    const r = renderCard();
    await ready(r);
    expect(allText(r.findByTestId(Text, 'einvoicing-check-vat_number'))).toContain('N° de TVA intracommunautaire');
  });
});
