import { afterEach, describe, expect, it, vi } from 'vitest';
import { hubspot } from '@hubspot/ui-extensions';
import { ApiError, buildUrl, createCardApi, newIdempotencyKey, parseErrorBody } from '../api';
import { API_BASE } from '../config';
import { isOverdue, todayIso } from '../format';
import { getMessages, pickLang } from '../i18n';

const who = { portalId: 4567, userId: 89, userEmail: 'léa+test@example.fr' };

describe('buildUrl', () => {
  it('prefixes the API base and path and appends portalId, userId, userEmail', () => {
    expect(buildUrl('/deals/1/card', who)).toBe(
      `${API_BASE}/api/hubspot/v1/deals/1/card?portalId=4567&userId=89&userEmail=l%C3%A9a%2Btest%40example.fr`,
    );
    expect(buildUrl('/x', who, 'https://api.example.org/')).toMatch(/^https:\/\/api\.example\.org\/api\/hubspot\/v1\/x\?portalId=/);
  });

  it('appends the user locale when HubSpot gives one, so errors come back in that language', () => {
    expect(buildUrl('/deals/1/card', { ...who, locale: 'en-us' })).toBe(
      `${API_BASE}/api/hubspot/v1/deals/1/card?portalId=4567&userId=89&userEmail=l%C3%A9a%2Btest%40example.fr&locale=en-us`,
    );
  });
});

describe('parseErrorBody', () => {
  it('reads code, message and problems', () => {
    const error = parseErrorBody(422, {
      error: { code: 'deal_not_ready', message: 'Pas prêt', problems: [{ code: 'missing_siret', field: 'company.siret', message: 'SIRET manquant' }] },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe('deal_not_ready');
    expect(error.serverMessage).toBe('Pas prêt');
    expect(error.problems).toEqual([{ code: 'missing_siret', field: 'company.siret', message: 'SIRET manquant' }]);
    expect(error.outcomeUnknown).toBe(false);
  });

  it('tolerates bodies of another shape', () => {
    const error = parseErrorBody(502, '<html>Bad gateway</html>');
    expect(error.code).toBe('http_502');
    expect(error.serverMessage).toBe('');
    expect(error.problems).toEqual([]);
    expect(error.outcomeUnknown).toBe(true);
  });
});

describe('createCardApi', () => {
  afterEach(() => vi.restoreAllMocks());

  it('posts the invoice request as a JSON object body and unwraps {invoice}', async () => {
    const fetch = vi.spyOn(hubspot, 'fetch').mockResolvedValue(
      new Response(JSON.stringify({ invoice: { id: 'i', status: 'pending' } }), { status: 202 }),
    );
    const api = createCardApi(who);
    const result = await api.createInvoice('77', { kind: 'deposit', percentage: 40, idempotency_key: 'k-1' });
    expect(result).toEqual({ id: 'i', status: 'pending' });
    const [url, options] = fetch.mock.calls[0];
    expect(String(url)).toContain('/api/hubspot/v1/deals/77/invoices?portalId=4567&userId=89&userEmail=');
    expect(options).toEqual({ method: 'POST', body: { kind: 'deposit', percentage: 40, idempotency_key: 'k-1' } });
  });

  it('accepts a bare invoice from GET invoice and turns a thrown fetch into a network ApiError', async () => {
    const fetch = vi.spyOn(hubspot, 'fetch').mockResolvedValueOnce(new Response(JSON.stringify({ id: 'i', status: 'draft' }), { status: 200 }));
    const api = createCardApi(who);
    expect(await api.getInvoice('i')).toEqual({ id: 'i', status: 'draft' });
    expect(fetch.mock.calls[0][1]).toEqual({ method: 'GET' });

    fetch.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    await expect(api.getInvoice('i')).rejects.toMatchObject({ status: 0, code: 'network_error', outcomeUnknown: true });
  });
});

describe('newIdempotencyKey', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('makes distinct v4 UUIDs, with or without crypto.randomUUID', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newIdempotencyKey()).toMatch(uuid);
    vi.stubGlobal('crypto', { getRandomValues: (bytes: Uint8Array) => bytes.fill(0xff) });
    expect(newIdempotencyKey()).toMatch(uuid);
    vi.stubGlobal('crypto', undefined);
    const keys = new Set(Array.from({ length: 20 }, () => newIdempotencyKey()));
    expect(keys.size).toBe(20);
    for (const key of keys) expect(key).toMatch(uuid);
  });
});

describe('i18n and dates', () => {
  it('picks English only for English locales', () => {
    expect(pickLang('en')).toBe('en');
    expect(pickLang('en-us')).toBe('en');
    expect(pickLang('EN_GB')).toBe('en');
    expect(pickLang('fr')).toBe('fr');
    expect(pickLang('es-es')).toBe('fr');
    expect(pickLang(undefined)).toBe('fr');
    expect(getMessages('en-gb').intlLocale).toBe('en-GB');
    expect(getMessages(undefined).intlLocale).toBe('fr-FR');
  });

  it('overdue means unpaid with a due date before today', () => {
    expect(isOverdue({ status: 'unpaid', due_date: '2026-11-24' }, '2026-11-25')).toBe(true);
    expect(isOverdue({ status: 'unpaid', due_date: '2026-11-25' }, '2026-11-25')).toBe(false);
    expect(isOverdue({ status: 'draft', due_date: '2026-01-01' }, '2026-11-25')).toBe(false);
    expect(isOverdue({ status: 'unpaid', due_date: null }, '2026-11-25')).toBe(false);
    expect(todayIso(new Date(2026, 0, 5))).toBe('2026-01-05');
  });
});
