import { describe, expect, it } from 'vitest';
import {
  Alert,
  Button,
  DescriptionListItem,
  Link,
  List,
  LoadingSpinner,
  NumberInput,
  StatusTag,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import { API_BASE } from '../config';
import { FakeBackend, allText, cardData, changeNumber, invoice, json, plain, renderCard } from './helpers';
import type { JsonReply } from './helpers';

const CARD = 'GET /deals/123/card';
const CREATE = 'POST /deals/123/invoices';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

type Renderer = ReturnType<typeof renderCard>;

async function ready(r: Renderer) {
  await r.waitFor(() => expect(r.maybeFindByTestId(LoadingSpinner, 'card-loading')).toBeNull());
}

function buttonsDisabled(r: Renderer) {
  return ['generate-full', 'generate-deposit', 'generate-balance'].map((id) => r.findByTestId(Button, id).props.disabled);
}

describe('loading', () => {
  it('shows a spinner until the card data arrives', async () => {
    const gate = deferred<JsonReply>();
    const backend = new FakeBackend().on(CARD, () => gate.promise);
    backend.install();
    const r = renderCard();

    const spinner = r.findByTestId(LoadingSpinner, 'card-loading');
    expect(spinner.props.label).toBe('Chargement des factures Qonto…');
    expect(r.maybeFind(Button)).toBeNull();

    gate.resolve(json(200, cardData()));
    await ready(r);
    expect(r.findByTestId(Button, 'generate-full').props.disabled).toBe(false);
    const call = backend.callsTo(CARD)[0];
    expect(call.url.startsWith(`${API_BASE}/api/hubspot/v1/deals/123/card?`)).toBe(true);
    expect(call.query).toEqual({ portalId: '4567', userId: '89', userEmail: 'lea@example.fr' });
  });

  it('shows the server message and a reload button when the card cannot load', async () => {
    let attempts = 0;
    const backend = new FakeBackend().on(CARD, () =>
      ++attempts === 1
        ? json(404, { error: { code: 'unknown_portal', message: 'Ce compte HubSpot n’est pas installé.' } })
        : json(200, cardData()),
    );
    backend.install();
    const r = renderCard();
    await r.waitFor(() => r.findByTestId(Alert, 'load-error'));
    expect(r.findByTestId(Alert, 'load-error').text).toBe('Ce compte HubSpot n’est pas installé.');

    r.findByTestId(Button, 'reload').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Button, 'generate-full'));
    expect(backend.callsTo(CARD)).toHaveLength(2);
  });
});

describe('tenant status', () => {
  it('needs_qonto: buttons disabled, says what to do, links to the settings', async () => {
    new FakeBackend()
      .on(CARD, () =>
        json(200, cardData({ tenant: { status: 'needs_qonto', plan: null, settings_url: 'https://connector.example.com/settings?t=sig', message: null } })),
      )
      .install();
    const r = renderCard();
    await ready(r);

    expect(buttonsDisabled(r)).toEqual([true, true, true]);
    const alert = r.findByTestId(Alert, 'tenant-alert');
    expect(alert.props.title).toBe('Qonto n’est pas connecté');
    expect(alert.props.variant).toBe('danger');
    expect(alert.text).toBe('Connectez votre compte Qonto dans les réglages pour générer des factures.');
    const link = r.findByTestId(Link, 'settings-link');
    expect(link.props.href).toEqual({ url: 'https://connector.example.com/settings?t=sig', external: true });
    expect(link.text).toBe('Ouvrir les réglages');
    expect(r.findByTestId(Text, 'buttons-disabled-hint').text).toContain('désactivés');
  });

  it('suspended: the server message wins over ours, buttons disabled', async () => {
    new FakeBackend()
      .on(CARD, () =>
        json(200, cardData({ tenant: { status: 'suspended', plan: 'monthly', settings_url: 'https://s', message: 'Abonnement suspendu le 02/11/2026.' } })),
      )
      .install();
    const r = renderCard();
    await ready(r);
    expect(buttonsDisabled(r)).toEqual([true, true, true]);
    expect(r.findByTestId(Alert, 'tenant-alert').text).toBe('Abonnement suspendu le 02/11/2026.');
  });

  it('grace: a warning with the date message, buttons stay enabled', async () => {
    new FakeBackend()
      .on(CARD, () =>
        json(200, cardData({ tenant: { status: 'grace', plan: 'monthly', settings_url: 'https://s', message: 'Paiement échoué : service actif jusqu’au 02/12/2026.' } })),
      )
      .install();
    const r = renderCard();
    await ready(r);

    const alert = r.findByTestId(Alert, 'tenant-alert');
    expect(alert.props.variant).toBe('warning');
    expect(alert.text).toBe('Paiement échoué : service actif jusqu’au 02/12/2026.');
    expect(buttonsDisabled(r)).toEqual([false, false, false]);
    expect(r.maybeFindByTestId(Text, 'buttons-disabled-hint')).toBeNull();
  });

  it('active: no tenant alert', async () => {
    new FakeBackend().on(CARD, () => json(200, cardData())).install();
    const r = renderCard();
    await ready(r);
    expect(r.maybeFindByTestId(Alert, 'tenant-alert')).toBeNull();
  });
});

describe('readiness', () => {
  it('lists each problem with the field to fix', async () => {
    new FakeBackend()
      .on(CARD, () =>
        json(
          200,
          cardData({
            readiness: {
              ready: false,
              problems: [
                { code: 'missing_siret', field: 'company.siret', message: 'Le SIRET de l’entreprise est manquant.' },
                { code: 'bad_zip', field: 'company.zip', message: 'Le code postal doit avoir 5 chiffres.' },
                { code: 'custom', field: 'company.qonto_legal_form', message: 'Forme juridique inconnue.' },
              ],
            },
          }),
        ),
      )
      .install();
    const r = renderCard();
    await ready(r);

    expect(r.maybeFindByTestId(Text, 'readiness-ok')).toBeNull();
    const list = r.findByTestId(List, 'readiness-problems');
    const text = allText(list);
    expect(text).toContain('Le SIRET de l’entreprise est manquant.');
    expect(text).toContain('Champ à corriger : Entreprise › SIRET');
    expect(text).toContain('Le code postal doit avoir 5 chiffres.');
    expect(text).toContain('Champ à corriger : Entreprise › code postal');
    // A field the card cannot name is not shown as a code ("company.qonto_legal_form").
    expect(text).not.toContain('company.qonto_legal_form');
    expect(text).toContain('Forme juridique inconnue.');
  });

  it('shows a green tick when the deal is ready', async () => {
    new FakeBackend().on(CARD, () => json(200, cardData())).install();
    const r = renderCard();
    await ready(r);
    const ok = r.findByTestId(Text, 'readiness-ok');
    expect(ok.find(StatusTag).props.variant).toBe('success');
    expect(allText(ok)).toContain('Toutes les informations nécessaires sont présentes');
  });
});

describe('invoice table and totals', () => {
  const invoices = [
    invoice({ id: 'a', kind: 'deposit', percentage: '50', status: 'draft', number: null, total_amount: '7200.00', due_date: '2026-12-25', qonto_url: 'https://app.qonto.com/a' }),
    invoice({ id: 'b', kind: 'full', status: 'unpaid', number: 'F-2026-001', total_amount: '1200.50', due_date: '2026-11-01' }),
    invoice({ id: 'c', kind: 'balance', status: 'unpaid', number: 'F-2026-002', due_date: '2026-11-25' }),
    invoice({ id: 'd', kind: 'full', status: 'paid', number: 'F-2026-003', due_date: '2026-01-01' }),
    invoice({ id: 'e', kind: 'full', status: 'failed', number: null, qonto_url: null, error: { code: 'x', message: 'y', retryable: false } }),
  ];

  it('shows number or Brouillon, kind, amount incl. VAT, coloured status, overdue, due date, Qonto link', async () => {
    new FakeBackend().on(CARD, () => json(200, cardData({ invoices }))).install();
    const r = renderCard({ today: '2026-11-25' });
    await ready(r);

    const row = (id: string) => r.findByTestId(TableRow, `invoice-row-${id}`);
    const cells = (id: string) => row(id).childNodes.map((cell) => allText(cell));
    const tag = (id: string) => r.findByTestId(StatusTag, `status-${id}`);

    expect(cells('a')).toEqual(['—', 'Acompte 50 %', '7 200,00 €', 'Brouillon', '25/12/2026', 'Ouvrir dans Qonto']);
    expect(tag('a').props.variant).toBe('default');
    expect(r.findByTestId(Link, 'qonto-link-a').props.href).toEqual({ url: 'https://app.qonto.com/a', external: true });

    // Unpaid and due date past: overdue.
    expect(cells('b').slice(0, 3)).toEqual(['F-2026-001', 'Facture', '1 200,50 €']);
    expect(tag('b').text).toBe('En retard');
    expect(tag('b').props.variant).toBe('danger');

    // Due today is not overdue yet.
    expect(cells('c')[1]).toBe('Solde');
    expect(tag('c').text).toBe('À payer');
    expect(tag('c').props.variant).toBe('warning');

    // Paid long ago is never overdue.
    expect(tag('d').text).toBe('Payée');
    expect(tag('d').props.variant).toBe('success');

    expect(tag('e').text).toBe('Échec');
    expect(tag('e').props.variant).toBe('danger');
    expect(cells('e')[5]).toBe('—');
  });

  it('shows deal amount, invoiced, paid and left to invoice in euros', async () => {
    new FakeBackend()
      .on(CARD, () =>
        json(200, cardData({ totals: { deal_amount: '12000.00', invoiced: '6000.00', paid: '1500.25', left_to_invoice: '6000.00' } })),
      )
      .install();
    const r = renderCard();
    await ready(r);

    const item = (id: string) => r.findByTestId(DescriptionListItem, id);
    expect(item('total-deal-amount').props.label).toBe('Montant de la transaction');
    expect(allText(item('total-deal-amount'))).toBe('12 000,00 €');
    expect(item('total-invoiced').props.label).toBe('Facturé');
    expect(allText(item('total-invoiced'))).toBe('6 000,00 €');
    expect(item('total-paid').props.label).toBe('Payé');
    expect(allText(item('total-paid'))).toBe('1 500,25 €');
    expect(item('total-left').props.label).toBe('Reste à facturer');
    expect(allText(item('total-left'))).toBe('6 000,00 €');
    expect(r.findByTestId(Text, 'no-invoices').text).toBe('Aucune facture pour cette transaction.');
  });
});

describe('generating an invoice', () => {
  it('full: pending row at once, polls until settled, success alert with the link, refreshes the deal', async () => {
    const post = deferred<JsonReply>();
    const pending = invoice({ id: 'inv-9', status: 'pending', number: null, qonto_url: null, total_amount: null });
    const done = invoice({ id: 'inv-9', status: 'draft', qonto_url: 'https://app.qonto.com/invoices/inv-9' });
    let cardLoads = 0;
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData({ invoices: ++cardLoads === 1 ? [] : [done] })))
      .on(CREATE, () => post.promise)
      .invoiceSequence('inv-9', [pending, pending, done]);
    backend.install();
    const r = renderCard();
    await ready(r);

    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => expect(r.findAll(TableRow)).toHaveLength(2));
    // The placeholder row appears before the server has answered.
    const placeholder = r.findAll(TableRow)[1];
    expect(allText(placeholder)).toContain('En cours');
    expect(placeholder.find(StatusTag).props.variant).toBe('info');
    expect(buttonsDisabled(r)).toEqual([true, true, true]);
    expect(r.findByTestId(LoadingSpinner, 'working').props.label).toBe('Création de la facture dans Qonto…');

    const [call] = backend.callsTo(CREATE);
    expect(call.body).toEqual({ kind: 'full', percentage: null, idempotency_key: expect.stringMatching(UUID) });
    expect(call.query).toEqual({ portalId: '4567', userId: '89', userEmail: 'lea@example.fr' });

    post.resolve(json(202, { invoice: pending }));
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));

    expect(backend.callsTo('GET /invoices/inv-9').length).toBe(3);
    expect(backend.callsTo('GET /invoices/inv-9')[0].query.portalId).toBe('4567');
    expect(r.findByTestId(Alert, 'success-alert').props.title).toBe('Facture brouillon créée dans Qonto');
    expect(r.findByTestId(Link, 'success-qonto-link').props.href).toEqual({ url: 'https://app.qonto.com/invoices/inv-9', external: true });
    expect(r.findByTestId(Link, 'success-qonto-link').text).toBe('Ouvrir dans Qonto');
    expect(r.mocks.actions.refreshObjectProperties.callCount).toBe(1);
    await r.waitFor(() => expect(backend.callsTo(CARD)).toHaveLength(2));
    expect(tagText(r, 'inv-9')).toBe('Brouillon');
    expect(buttonsDisabled(r)).toEqual([false, false, false]);
  });

  it('deposit: an out-of-range percentage is refused before anything is sent', async () => {
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, (call) => json(202, { invoice: invoice({ id: 'dep', kind: 'deposit', percentage: String(call.body?.percentage), status: 'draft' }) }));
    backend.install();
    const r = renderCard();
    await ready(r);

    expect(r.find(NumberInput).props.value).toBe(50);
    expect(plain(r.findByTestId(Button, 'generate-deposit').text)).toBe('Acompte de 50 %');
    for (const bad of [150, 0, 99.5]) {
      changeNumber(r.find(NumberInput), bad);
      r.findByTestId(Button, 'generate-deposit').trigger('onClick');
      await r.waitFor(() => expect(r.find(NumberInput).props.error).toBe(true));
      expect(r.find(NumberInput).props.validationMessage).toBe('Saisissez un pourcentage entier entre 1 et 99.');
    }
    expect(backend.callsTo(CREATE)).toHaveLength(0);
    expect(r.findByTestId(Button, 'generate-deposit').text).toBe('Acompte');

    changeNumber(r.find(NumberInput), 30);
    await r.waitFor(() => expect(r.find(NumberInput).props.error).toBe(false));
    r.findByTestId(Button, 'generate-deposit').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));
    expect(backend.callsTo(CREATE)[0].body).toEqual({ kind: 'deposit', percentage: 30, idempotency_key: expect.stringMatching(UUID) });
  });

  it('balance: sends kind balance', async () => {
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () => json(202, { invoice: invoice({ id: 'bal', kind: 'balance', status: 'draft' }) }));
    backend.install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'generate-balance').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));
    expect(backend.callsTo(CREATE)[0].body).toMatchObject({ kind: 'balance', percentage: null });
  });

  it('422: shows the message and every problem, nothing is polled', async () => {
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () =>
        json(422, {
          error: {
            code: 'missing_company_fields',
            message: 'La transaction n’est pas prête à être facturée.',
            problems: [
              { code: 'missing_siret', field: 'company.siret', message: 'Le SIRET de l’entreprise est manquant.' },
              { code: 'missing_city', field: 'company.city', message: 'La ville est manquante.' },
            ],
          },
        }),
      );
    backend.install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'refused-alert'));

    expect(r.findByTestId(Alert, 'refused-alert').text).toBe('La transaction n’est pas prête à être facturée.');
    const problems = allText(r.findByTestId(List, 'refused-problems'));
    expect(problems).toContain('Le SIRET de l’entreprise est manquant.');
    expect(problems).toContain('Entreprise › SIRET');
    expect(problems).toContain('La ville est manquante.');
    expect(problems).toContain('Entreprise › ville');
    expect(backend.calls.filter((c) => c.path.startsWith('/invoices/'))).toHaveLength(0);
    expect(r.mocks.actions.refreshObjectProperties.callCount).toBe(0);
    expect(buttonsDisabled(r)).toEqual([false, false, false]);
  });

  it('failed and retryable: error alert with Retry, which re-queues the invoice and polls again', async () => {
    let state: 'first' | 'failed' | 'retried' = 'first';
    const pending = invoice({ id: 'inv-5', status: 'pending', qonto_url: null });
    const failed = invoice({
      id: 'inv-5',
      status: 'failed',
      qonto_url: null,
      error: { code: 'qonto_unavailable', message: 'Qonto ne répond pas, réessayez.', retryable: true },
    });
    const done = invoice({ id: 'inv-5', status: 'draft', number: null });
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () => json(202, { invoice: pending }))
      .on('GET /invoices/inv-5', () => {
        if (state === 'first') {
          state = 'failed';
          return json(200, pending);
        }
        return json(200, state === 'failed' ? failed : done);
      })
      .on('POST /invoices/inv-5/retry', () => {
        state = 'retried';
        return json(202, { invoice: pending });
      });
    backend.install();
    const r = renderCard();
    await ready(r);

    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'failure-alert'));
    expect(r.findByTestId(Alert, 'failure-alert').text).toBe('Qonto ne répond pas, réessayez.');
    expect(tagText(r, 'inv-5')).toBe('Échec');
    expect(r.mocks.actions.refreshObjectProperties.callCount).toBe(1);

    const retry = r.findByTestId(Button, 'retry-button');
    expect(retry.text).toBe('Réessayer');
    retry.trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));

    const retries = backend.callsTo('POST /invoices/inv-5/retry');
    expect(retries).toHaveLength(1);
    expect(retries[0].query).toEqual({ portalId: '4567', userId: '89', userEmail: 'lea@example.fr' });
    expect(backend.callsTo(CREATE)).toHaveLength(1);
    expect(r.mocks.actions.refreshObjectProperties.callCount).toBe(2);
  });

  it('failed and not retryable: error alert without Retry', async () => {
    new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () =>
        json(202, { invoice: invoice({ id: 'x', status: 'failed', error: { code: 'qonto_rejected', message: 'Qonto a refusé la facture.', retryable: false } }) }),
      )
      .install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'failure-alert'));
    expect(r.findByTestId(Alert, 'failure-alert').text).toBe('Qonto a refusé la facture.');
    expect(r.maybeFindByTestId(Button, 'retry-button')).toBeNull();
  });

  it('a retry answered 409 not_retryable shows why and hides Retry', async () => {
    new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () =>
        json(202, { invoice: invoice({ id: 'x', status: 'failed', error: { code: 'timeout', message: 'Délai dépassé.', retryable: true } }) }),
      )
      .on('POST /invoices/x/retry', () => json(409, { error: { code: 'not_retryable', message: 'Cette facture ne peut plus être relancée.' } }))
      .install();
    const r = renderCard();
    await ready(r);
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Button, 'retry-button'));
    r.findByTestId(Button, 'retry-button').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'retry-error-alert'));
    expect(r.findByTestId(Alert, 'retry-error-alert').text).toBe('Cette facture ne peut plus être relancée.');
    expect(r.maybeFindByTestId(Button, 'retry-button')).toBeNull();
  });

  it('stops polling after the maximum duration and says the work goes on', async () => {
    const pending = invoice({ id: 'slow', status: 'pending', qonto_url: null });
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () => json(202, { invoice: pending }))
      .invoiceSequence('slow', [pending]);
    backend.install();
    const r = renderCard({ timings: { pollIntervalMs: 5, pollTimeoutMs: 40 } });
    await ready(r);
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'timeout-alert'), { timeoutInMs: 2000 });

    expect(r.findByTestId(Alert, 'timeout-alert').props.title).toBe('La création prend plus de temps que prévu');
    const polls = backend.callsTo('GET /invoices/slow').length;
    expect(polls).toBeGreaterThan(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(backend.callsTo('GET /invoices/slow').length).toBe(polls);
    expect(tagText(r, 'slow')).toBe('En cours');
    expect(buttonsDisabled(r)).toEqual([false, false, false]);
  });
});

describe('idempotency', () => {
  it('a double click sends exactly one POST', async () => {
    const post = deferred<JsonReply>();
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () => post.promise);
    backend.install();
    const r = renderCard();
    await ready(r);

    const button = r.findByTestId(Button, 'generate-full');
    button.trigger('onClick');
    button.trigger('onClick'); // same tick, before any re-render
    await r.waitFor(() => expect(r.findByTestId(Button, 'generate-full').props.disabled).toBe(true));
    r.findByTestId(Button, 'generate-full').trigger('onClick'); // a disabled button that still fires
    r.findByTestId(Button, 'generate-deposit').trigger('onClick');
    expect(backend.callsTo(CREATE)).toHaveLength(1);

    post.resolve(json(202, { invoice: invoice({ id: 'one', status: 'draft' }) }));
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));
    expect(backend.callsTo(CREATE)).toHaveLength(1);
  });

  it('re-sending a request that got no answer reuses its key; a new click after an answer gets a new key', async () => {
    let attempt = 0;
    const backend = new FakeBackend()
      .on(CARD, () => json(200, cardData()))
      .on(CREATE, () => {
        attempt += 1;
        if (attempt === 1) return json(0); // connection lost
        if (attempt === 2) return json(502, { error: { code: 'bad_gateway', message: 'Service momentanément indisponible.' } });
        return json(attempt === 3 ? 202 : 200, { invoice: invoice({ id: `i${attempt}`, status: 'draft' }) });
      });
    backend.install();
    const r = renderCard();
    await ready(r);

    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'send-failed-alert'));
    expect(r.findByTestId(Alert, 'send-failed-alert').text).toContain('ne répond pas');

    r.findByTestId(Button, 'resend-button').trigger('onClick');
    await r.waitFor(() => expect(r.findByTestId(Alert, 'send-failed-alert').text).toBe('Service momentanément indisponible.'));

    // Clicking the same button again is the same request: same key.
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => r.findByTestId(Alert, 'success-alert'));

    const keys = backend.callsTo(CREATE).map((c) => c.body?.idempotency_key);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(UUID);
    expect(new Set(keys).size).toBe(1);

    // That request was answered: the next click is a new request with a new key.
    r.findByTestId(Button, 'generate-full').trigger('onClick');
    await r.waitFor(() => expect(backend.callsTo(CREATE)).toHaveLength(4));
    expect(backend.callsTo(CREATE)[3].body?.idempotency_key).not.toBe(keys[0]);
  });
});

describe('English', () => {
  it('uses English strings and formats for an English locale', async () => {
    const invoices = [
      invoice({ id: 'a', kind: 'deposit', percentage: '30', status: 'draft', number: null, total_amount: '4320.00', due_date: '2026-12-25' }),
      invoice({ id: 'b', kind: 'full', status: 'unpaid', number: 'F-1', total_amount: '1200.50', due_date: '2026-11-01' }),
    ];
    new FakeBackend()
      .on(CARD, () =>
        json(
          200,
          cardData({
            invoices,
            readiness: { ready: false, problems: [{ code: 'missing_siret', field: 'company.siret', message: 'The company SIRET is missing.' }] },
          }),
        ),
      )
      .install();
    const r = renderCard({ locale: 'en-us' });
    expect(r.findByTestId(LoadingSpinner, 'card-loading').props.label).toBe('Loading Qonto invoices…');
    await ready(r);

    const cells = (id: string) => r.findByTestId(TableRow, `invoice-row-${id}`).childNodes.map((cell) => allText(cell));
    expect(cells('a')).toEqual(['—', 'Deposit 30%', '€4,320.00', 'Draft', '12/25/2026', 'Open in Qonto']);
    expect(tagText(r, 'b')).toBe('Overdue');
    expect(r.findByTestId(Button, 'generate-full').text).toBe('Generate invoice');
    expect(r.findByTestId(Button, 'generate-deposit').text).toBe('Deposit 50%');
    expect(r.findByTestId(Button, 'generate-balance').text).toBe('Balance');
    expect(r.find(NumberInput).props.label).toBe('Deposit percentage');
    expect(r.findByTestId(DescriptionListItem, 'total-left').props.label).toBe('Left to invoice');
    expect(allText(r.findByTestId(DescriptionListItem, 'total-deal-amount'))).toBe('€12,000.00');
    expect(allText(r.findByTestId(List, 'readiness-problems'))).toContain('Field to fix: Company › SIRET');

    changeNumber(r.find(NumberInput), 100);
    r.findByTestId(Button, 'generate-deposit').trigger('onClick');
    await r.waitFor(() => expect(r.find(NumberInput).props.validationMessage).toBe('Enter a whole percentage between 1 and 99.'));
  });

  it('falls back to French for other locales', async () => {
    new FakeBackend().on(CARD, () => json(200, cardData())).install();
    const r = renderCard({ locale: 'de-de' });
    await ready(r);
    expect(r.findByTestId(Button, 'generate-full').text).toBe('Générer la facture');
  });
});

function tagText(r: Renderer, id: string): string {
  return plain(r.findByTestId(StatusTag, `status-${id}`).text);
}
