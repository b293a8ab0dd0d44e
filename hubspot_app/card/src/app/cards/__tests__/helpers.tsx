/** A fake card API behind a mocked `hubspot.fetch`, and a render helper. */
import React from 'react';
import { vi } from 'vitest';
import { hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import type { CardData, Invoice } from '../api';
import { InvoiceCard } from '../InvoiceCard';

export interface RecordedCall {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
}

export type JsonReply = { status: number; body?: unknown };
export type Reply = JsonReply | Promise<JsonReply>;
export type Handler = (call: RecordedCall) => Reply;

export function json(status: number, body?: unknown): JsonReply {
  return { status, body };
}

export function invoice(overrides: Partial<Invoice> = {}): Invoice {
  return {
    id: 'inv-1',
    kind: 'full',
    percentage: null,
    status: 'draft',
    number: null,
    issue_date: '2026-11-25',
    due_date: '2026-12-25',
    total_amount: '14400.00',
    vat_amount: '2400.00',
    currency: 'EUR',
    qonto_url: 'https://app.qonto.com/invoices/inv-1',
    error: null,
    created_at: '2026-11-25T10:00:00Z',
    ...overrides,
  };
}

export function cardData(overrides: Partial<CardData> = {}): CardData {
  return {
    tenant: { status: 'active', plan: 'monthly', settings_url: 'https://connector.example.com/settings?t=abc', message: null },
    deal: { id: '123', name: 'Refonte site', amount: '12000.00', currency: 'EUR' },
    readiness: { ready: true, problems: [] },
    invoices: [],
    totals: { deal_amount: '12000.00', invoiced: '0.00', paid: '0.00', left_to_invoice: '12000.00' },
    last_synced_at: '2026-11-25T03:00:00Z',
    ...overrides,
  };
}

/**
 * Routes `hubspot.fetch` calls to handlers keyed by "METHOD /path" (path after /api/hubspot/v1,
 * without the query string). Unrouted calls answer 404.
 */
export class FakeBackend {
  calls: RecordedCall[] = [];
  private routes = new Map<string, Handler>();

  on(route: string, handler: Handler): this {
    this.routes.set(route, handler);
    return this;
  }

  /** Answers GET invoice with each reply in turn, then keeps the last one. */
  invoiceSequence(id: string, replies: Invoice[]): this {
    let i = 0;
    return this.on(`GET /invoices/${id}`, () => json(200, replies[Math.min(i++, replies.length - 1)]));
  }

  callsTo(route: string): RecordedCall[] {
    const [method, path] = route.split(' ');
    return this.calls.filter((c) => c.method === method && c.path === path);
  }

  install() {
    return vi.spyOn(hubspot, 'fetch').mockImplementation(async (input, options) => {
      const url = String(input);
      const parsed = new URL(url);
      const path = parsed.pathname.replace(/^\/api\/hubspot\/v1/, '');
      const call: RecordedCall = {
        method: options?.method ?? 'GET',
        url,
        path,
        query: Object.fromEntries(parsed.searchParams.entries()),
        body: options?.body as Record<string, unknown> | undefined,
      };
      this.calls.push(call);
      const handler = this.routes.get(`${call.method} ${path}`);
      const reply = handler ? await handler(call) : json(404, { error: { code: 'not_found', message: 'Not found' } });
      if (reply.status === 0) throw new TypeError('Failed to fetch');
      return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
        status: reply.status,
        headers: { 'Content-Type': 'application/json' },
      });
    });
  }
}

export const FAST = { pollIntervalMs: 5, pollTimeoutMs: 2000 };

export function renderCard(
  opts: { locale?: string; timings?: { pollIntervalMs?: number; pollTimeoutMs?: number }; today?: string } = {},
) {
  const renderer = createRenderer('crm.record.sidebar');
  const { context, actions } = renderer.mocks;
  context.crm.objectId = 123;
  context.crm.objectTypeId = '0-3';
  context.portal.id = 4567;
  context.user.id = 89;
  context.user.email = 'lea@example.fr';
  if (opts.locale) context.user.locale = opts.locale;
  renderer.render(
    <InvoiceCard context={context} actions={actions} timings={opts.timings ?? FAST} today={opts.today ?? '2026-11-25'} />,
  );
  return renderer;
}

/** Collapses the narrow / non-breaking spaces Intl puts in French numbers. */
export function plain(text: string | null | undefined): string {
  return (text ?? '').replace(/[\u202f\u00a0]/g, ' ');
}

interface NodeLike {
  nodeType: string;
  text?: string | null;
  childNodes?: NodeLike[];
}

/** Every text node under `node`, joined with spaces (props such as titles and labels excluded). */
export function allText(node: NodeLike): string {
  if (node.nodeType === 'text') return node.text ?? '';
  return plain((node.childNodes ?? []).map(allText).filter(Boolean).join(' '));
}

/**
 * Fires a NumberInput's onChange with a value. `trigger`'s declared type expects the handler
 * itself as the event argument (a typing slip in the testing package); at run time it passes the
 * argument to the handler, which is what we want.
 */
export function changeNumber(node: { trigger: (...args: never[]) => void }, value: number): void {
  (node.trigger as unknown as (event: 'onChange', arg: number) => void)('onChange', value);
}
