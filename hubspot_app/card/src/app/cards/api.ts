/**
 * Client for our card API (see shared/spec/card-api.md), through `hubspot.fetch` only: HubSpot
 * signs each call (v3 signature) and adds `appId`; the card appends `portalId`, `userId` and
 * `userEmail` to every URL so that the signature covers them.
 */
import { hubspot } from '@hubspot/ui-extensions';
import { API_BASE } from './config';

export const API_PATH = '/api/hubspot/v1';

// ---------------------------------------------------------------------------------------------
// Wire types (money values are decimal strings with two decimals, dates `YYYY-MM-DD`)
// ---------------------------------------------------------------------------------------------

export type TenantStatus = 'active' | 'grace' | 'needs_qonto' | 'needs_plan' | 'suspended' | 'uninstalled';
export type InvoiceStatus = 'pending' | 'draft' | 'unpaid' | 'paid' | 'canceled' | 'failed';
export type InvoiceKind = 'full' | 'deposit' | 'balance';
/** An invoice row's kind: one the card asked for, or one made in Qonto and attached by the history import. */
export type InvoiceRowKind = InvoiceKind | 'imported';

export interface Problem {
  code: string;
  field?: string | null;
  message: string;
  /** Where the problem is fixed (the company's record in HubSpot, the settings), when there is one. */
  url?: string | null;
}

export type VatMode = 'standard' | 'reverse_charge';

export interface Tenant {
  status: TenantStatus;
  plan: string | null;
  settings_url: string | null;
  message: string | null;
}

export interface Deal {
  id: string;
  name: string;
  amount: string | null;
  currency: string | null;
}

export interface EinvoicingCheck {
  code: 'siret' | 'address' | 'vat_number';
  ok: boolean;
  label: string;
}

export interface Readiness {
  ready: boolean;
  problems: Problem[];
  /** Not blocking: what to know before invoicing (client abroad, Qonto's record differs, SIRET shared). */
  warnings?: Problem[];
  /** French clients: what e-invoicing routes on (SIREN/SIRET, full address, VAT number); null otherwise. */
  einvoicing?: EinvoicingCheck[] | null;
}

export interface Company {
  id: string;
  name: string;
  /** The company's record in HubSpot. */
  url: string;
}

export type DealStatusCode = 'ready' | 'not_ready' | 'fully_invoiced' | 'tenant_blocked';

export interface DealStatus {
  code: DealStatusCode;
  /** The server's sentence for `fully_invoiced` and `tenant_blocked` (the same a click would get). */
  message: string | null;
}

export interface ActionAvailability {
  enabled: boolean;
  reason: string | null;
  reason_code: string | null;
}

export interface Actions {
  full: ActionAvailability;
  deposit: ActionAvailability;
  balance: ActionAvailability;
}

export interface VatInfo {
  regime: 'france' | 'eu' | 'outside_eu' | 'unknown';
  country: string | null;
  vat_number: string | null;
  /** Outside France the card must send `vat_mode` (the backend refuses a request without it). */
  choice_required: boolean;
  modes: VatMode[];
  default_mode: VatMode;
  /** The deal's invoices already use this mode: the next one must too. */
  locked_mode: VatMode | null;
  reverse_charge_mention: string | null;
}

export interface InvoiceError {
  code: string;
  message: string;
  retryable: boolean;
}

export type InvoiceActionKind = 'finalize' | 'send';

export interface InvoiceLastAction {
  id: string;
  kind: InvoiceActionKind;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  error: { code: string; message: string } | null;
}

export interface Invoice {
  id: string;
  kind: InvoiceRowKind;
  percentage: string | null;
  status: InvoiceStatus;
  number: string | null;
  issue_date: string | null;
  due_date: string | null;
  total_amount: string | null;
  vat_amount: string | null;
  /** Qonto credit notes (avoirs) on this invoice, incl. VAT like `total_amount`; `null` if none. */
  credited_amount?: string | null;
  currency: string;
  /** The invoice in the seller's Qonto app (drafts included). */
  qonto_url: string | null;
  /** The customer's payment page: only once the invoice is finalized. */
  payment_url?: string | null;
  vat_mode?: VatMode;
  /** E.g. Qonto's client record differs from HubSpot's company (Qonto's is kept). */
  notices?: Problem[];
  error: InvoiceError | null;
  created_at: string;
  /** Finalize and send from the card (older backends omit them: no buttons). */
  can_finalize?: boolean;
  can_send?: boolean;
  /** When Qonto last e-mailed it from the card (Qonto has no "sent" status), UTC. */
  sent_at?: string | null;
  /** Our stable link to Qonto's PDF, once Qonto has made it. */
  pdf_url?: string | null;
  einvoicing_status?: string | null;
  /** E.g. "Facture électronique : déposée". */
  einvoicing_label?: string | null;
  last_action?: InvoiceLastAction | null;
}

export interface Totals {
  deal_amount: string;
  invoiced: string;
  paid: string;
  left_to_invoice: string;
}

export interface CardData {
  tenant: Tenant;
  deal: Deal;
  readiness: Readiness;
  invoices: Invoice[];
  totals: Totals;
  last_synced_at: string | null;
  /** Added fields (older backends omit them; the card then falls back to the readiness alone). */
  company?: Company | null;
  status?: DealStatus;
  actions?: Actions;
  vat?: VatInfo;
  /** When Qonto was last read for this deal (Refresh or a successful sync), UTC. */
  last_read_at?: string | null;
  hubspot_read_at?: string | null;
}

export interface CreateInvoiceRequest {
  kind: InvoiceKind;
  /** 1–99 for a deposit, `null` otherwise. */
  percentage: number | null;
  /** Made by the card once per click and reused when the same request is sent again. */
  idempotency_key: string;
  /** Sent when the client is outside France (`vat.choice_required`). */
  vat_mode?: VatMode | null;
  /** The user confirmed billing the Qonto client another HubSpot company with this SIRET uses. */
  confirm_shared_client?: boolean;
}

export interface SendInvoiceRequest {
  idempotency_key: string;
  /** Empty: the client's e-mail in Qonto. */
  send_to: string[];
  email_title: string;
  email_body?: string;
  copy_to_self?: boolean;
}

export interface InvoiceEnvelope {
  invoice: Invoice;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Any failure of a call: a non-2xx answer (`{error: {code, message, problems}}`) or no answer. */
export class ApiError extends Error {
  /** HTTP status; 0 when no answer came back (network failure, timeout). */
  readonly status: number;
  readonly code: string;
  /** The server's sentence for people (already in the user's language), or '' when none. */
  readonly serverMessage: string;
  readonly problems: Problem[];

  constructor(init: { status: number; code: string; message?: string | null; problems?: Problem[] | null }) {
    super(init.message || init.code);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.serverMessage = init.message ?? '';
    this.problems = Array.isArray(init.problems) ? init.problems : [];
  }

  /**
   * True when we cannot know whether the server acted (no answer, 5xx, 429): the same request
   * may be sent again, with the same idempotency key.
   */
  get outcomeUnknown(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asProblems(value: unknown): Problem[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((p) => ({
    code: typeof p.code === 'string' ? p.code : 'unknown',
    field: typeof p.field === 'string' ? p.field : null,
    message: typeof p.message === 'string' ? p.message : '',
  }));
}

/** Reads `{error: {code, message, problems}}`; tolerates any other body. */
export function parseErrorBody(status: number, body: unknown): ApiError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : null;
  return new ApiError({
    status,
    code: err && typeof err.code === 'string' ? err.code : `http_${status}`,
    message: err && typeof err.message === 'string' ? err.message : null,
    problems: err ? asProblems(err.problems) : [],
  });
}

// ---------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------

/** Who is calling, taken from the extension context and appended to every URL. */
export interface CallerIdentity {
  portalId: number | string;
  userId: number | string;
  userEmail: string;
  /** HubSpot's `context.user.locale` ("fr", "en-us"): the backend answers messages in that language. */
  locale?: string;
}

export interface ContextLike {
  portal: { id: number | string };
  user: { id: number | string; email: string; locale?: string };
}

export function identityFromContext(context: ContextLike): CallerIdentity {
  return {
    portalId: context.portal.id,
    userId: context.user.id,
    userEmail: context.user.email,
    locale: context.user.locale,
  };
}

/** `${API_BASE}/api/hubspot/v1${path}?portalId=…&userId=…&userEmail=…[&locale=…]` */
export function buildUrl(path: string, identity: CallerIdentity, base: string = API_BASE): string {
  const query = [
    `portalId=${encodeURIComponent(String(identity.portalId))}`,
    `userId=${encodeURIComponent(String(identity.userId))}`,
    `userEmail=${encodeURIComponent(identity.userEmail ?? '')}`,
    ...(identity.locale ? [`locale=${encodeURIComponent(identity.locale)}`] : []),
  ].join('&');
  const origin = base.replace(/\/+$/, '');
  return `${origin}${API_PATH}${path}${path.includes('?') ? '&' : '?'}${query}`;
}

const seg = (value: string | number) => encodeURIComponent(String(value));

export const paths = {
  card: (dealId: string | number) => `/deals/${seg(dealId)}/card`,
  refresh: (dealId: string | number) => `/deals/${seg(dealId)}/refresh`,
  createInvoice: (dealId: string | number) => `/deals/${seg(dealId)}/invoices`,
  invoice: (invoiceId: string) => `/invoices/${seg(invoiceId)}`,
  retry: (invoiceId: string) => `/invoices/${seg(invoiceId)}/retry`,
  finalize: (invoiceId: string) => `/invoices/${seg(invoiceId)}/finalize`,
  send: (invoiceId: string) => `/invoices/${seg(invoiceId)}/send`,
};

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

async function readJson(response: Response): Promise<unknown> {
  try {
    const text = await response.text();
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

async function call(method: 'GET' | 'POST', url: string, body?: Record<string, unknown>): Promise<unknown> {
  let response: Response;
  try {
    // Only `method` and `body`: hubspot.fetch forwards no custom headers.
    response = await hubspot.fetch(url, body === undefined ? { method } : { method, body });
  } catch (cause) {
    const error = new ApiError({ status: 0, code: 'network_error' });
    (error as Error & { cause?: unknown }).cause = cause;
    throw error;
  }
  const payload = await readJson(response);
  if (!response.ok) throw parseErrorBody(response.status, payload);
  return payload;
}

/** Accepts `{invoice: {...}}` or a bare invoice object. */
function unwrapInvoice(payload: unknown): Invoice | null {
  if (isRecord(payload) && isRecord(payload.invoice)) return payload.invoice as unknown as Invoice;
  if (isRecord(payload) && typeof payload.id === 'string' && typeof payload.status === 'string') {
    return payload as unknown as Invoice;
  }
  return null;
}

function requireInvoice(payload: unknown): Invoice {
  const invoice = unwrapInvoice(payload);
  if (!invoice) throw new ApiError({ status: 200, code: 'bad_response' });
  return invoice;
}

function asCardData(payload: unknown): CardData {
  if (!isRecord(payload) || !isRecord(payload.tenant)) throw new ApiError({ status: 200, code: 'bad_response' });
  const data = payload as unknown as CardData;
  return {
    ...data,
    invoices: Array.isArray(data.invoices) ? data.invoices : [],
    readiness: data.readiness ?? { ready: true, problems: [] },
  };
}

export interface CardApi {
  getCard(dealId: string | number): Promise<CardData>;
  /** Reads the deal's invoices from Qonto now, then answers the card data. */
  refreshCard(dealId: string | number): Promise<CardData>;
  createInvoice(dealId: string | number, request: CreateInvoiceRequest): Promise<Invoice>;
  getInvoice(invoiceId: string): Promise<Invoice>;
  /** Resolves with the re-queued invoice when the answer carries it, else `null`. */
  retryInvoice(invoiceId: string): Promise<Invoice | null>;
  /** *Finaliser*: 202 while a worker finalizes in Qonto; 409 when the invoice is not a draft. */
  finalizeInvoice(invoiceId: string, idempotencyKey: string): Promise<Invoice>;
  /** *Envoyer*: Qonto e-mails the finalized invoice; 409 before it is finalized. */
  sendInvoice(invoiceId: string, request: SendInvoiceRequest): Promise<Invoice>;
}

export function createCardApi(identity: CallerIdentity, base: string = API_BASE): CardApi {
  const url = (path: string) => buildUrl(path, identity, base);
  return {
    async getCard(dealId) {
      return asCardData(await call('GET', url(paths.card(dealId))));
    },
    async refreshCard(dealId) {
      return asCardData(await call('POST', url(paths.refresh(dealId)), {}));
    },
    async createInvoice(dealId, request) {
      const body: Record<string, unknown> = {
        kind: request.kind,
        percentage: request.percentage,
        idempotency_key: request.idempotency_key,
      };
      if (request.vat_mode) body.vat_mode = request.vat_mode;
      if (request.confirm_shared_client) body.confirm_shared_client = true;
      return requireInvoice(await call('POST', url(paths.createInvoice(dealId)), body));
    },
    async getInvoice(invoiceId) {
      return requireInvoice(await call('GET', url(paths.invoice(invoiceId))));
    },
    async retryInvoice(invoiceId) {
      return unwrapInvoice(await call('POST', url(paths.retry(invoiceId)), {}));
    },
    async finalizeInvoice(invoiceId, idempotencyKey) {
      return requireInvoice(await call('POST', url(paths.finalize(invoiceId)), { idempotency_key: idempotencyKey }));
    },
    async sendInvoice(invoiceId, request) {
      const body: Record<string, unknown> = {
        idempotency_key: request.idempotency_key,
        send_to: request.send_to,
        email_title: request.email_title,
        copy_to_self: request.copy_to_self ?? true,
      };
      if (request.email_body) body.email_body = request.email_body;
      return requireInvoice(await call('POST', url(paths.send(invoiceId)), body));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys
// ---------------------------------------------------------------------------------------------

/** A v4 UUID: `crypto.randomUUID` where the runtime has it, else built from random bytes. */
export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') {
    c.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
