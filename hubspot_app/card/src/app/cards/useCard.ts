/**
 * State of the card: loading the deal's card data, sending an invoice request, polling the
 * invoice until it settles, retrying a failed one.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, newIdempotencyKey } from './api';
import type { CardApi, CardData, CreateInvoiceRequest, Invoice, InvoiceKind, VatMode } from './api';

export const DEFAULT_POLL_INTERVAL_MS = 1500;
export const DEFAULT_POLL_TIMEOUT_MS = 2 * 60 * 1000;

export interface CardTimings {
  /** Delay between two GETs of a pending invoice (default 1.5 s). */
  pollIntervalMs?: number;
  /** Polling stops after this long and the card says the work goes on (default 2 min). */
  pollTimeoutMs?: number;
}

export type LoadState =
  | { status: 'loading'; data: null; error: null }
  | { status: 'ready'; data: CardData; error: null }
  | { status: 'error'; data: null; error: ApiError };

export type ActionState =
  | { phase: 'idle' }
  /** The POST is in flight: the table shows a placeholder pending row. */
  | { phase: 'sending'; request: CreateInvoiceRequest }
  /** The invoice exists and is `pending`; we poll it. */
  | { phase: 'polling'; invoice: Invoice }
  /** The retry POST is in flight. */
  | { phase: 'retrying'; invoice: Invoice }
  | { phase: 'succeeded'; invoice: Invoice }
  /** The invoice settled as `failed`; `retryError` is set when a retry was refused or lost. */
  | { phase: 'failed'; invoice: Invoice; retryError: ApiError | null }
  /** Polling gave up: the invoice is still pending on our side. */
  | { phase: 'timeout'; invoice: Invoice }
  /** The server answered no (4xx): nothing was queued. */
  | { phase: 'refused'; error: ApiError }
  /** No definitive answer (network, 5xx): the same request can be sent again with the same key. */
  | { phase: 'sendFailed'; error: ApiError; request: CreateInvoiceRequest };

export interface UseCardArgs {
  dealId: string | number;
  api: CardApi;
  refreshObjectProperties: () => void;
  timings?: CardTimings;
}

export interface UseCard {
  load: LoadState;
  action: ActionState;
  /** A request or a poll is under way: the invoice buttons are disabled. */
  busy: boolean;
  /** One click on Generate / Deposit / Balance (with the VAT mode outside France). */
  generate: (
    kind: InvoiceKind,
    percentage?: number | null,
    options?: { vat_mode?: VatMode | null; confirm_shared_client?: boolean },
  ) => void;
  /** *Actualiser*: the backend reads the deal's invoices from Qonto now. */
  refresh: () => void;
  refreshing: boolean;
  /** The last refresh failed (the card keeps what it showed). */
  refreshError: ApiError | null;
  /** Sends the last unanswered request again, with the same idempotency key. */
  resend: () => void;
  /** Re-queues the failed invoice (POST …/retry). */
  retry: () => void;
  reload: () => void;
  /** Re-reads the card without the loading state (after a finalize or a send settles). */
  reloadSilently: () => void;
  dismiss: () => void;
}

function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError({ status: 0, code: 'client_error' });
}

export function useCard({ dealId, api, refreshObjectProperties, timings }: UseCardArgs): UseCard {
  const pollIntervalMs = timings?.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const pollTimeoutMs = timings?.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;

  const [load, setLoad] = useState<LoadState>({ status: 'loading', data: null, error: null });
  const [action, setActionState] = useState<ActionState>({ phase: 'idle' });
  const [refreshing, setRefreshing] = useState(false);
  const [refreshError, setRefreshError] = useState<ApiError | null>(null);

  // Refs, not state: they must change synchronously so a second click in the same tick sees them.
  const busyRef = useRef(false);
  const [busy, setBusyState] = useState(false);
  /** The last request with no definitive answer; re-sending it reuses its idempotency key. */
  const unansweredRef = useRef<CreateInvoiceRequest | null>(null);
  /** Bumped on unmount and on every new action so stale timers and answers are ignored. */
  const generationRef = useRef(0);
  const timerRef = useRef<ReturnType<typeof setTimeout> | null>(null);
  const loadSeqRef = useRef(0);
  const actionRef = useRef<ActionState>(action);

  const setAction = useCallback((next: ActionState) => {
    actionRef.current = next;
    setActionState(next);
  }, []);

  const setBusy = useCallback((value: boolean) => {
    busyRef.current = value;
    setBusyState(value);
  }, []);

  const clearTimer = () => {
    if (timerRef.current !== null) {
      clearTimeout(timerRef.current);
      timerRef.current = null;
    }
  };

  const fetchCard = useCallback(
    async (silent: boolean) => {
      const seq = ++loadSeqRef.current;
      if (!silent) setLoad({ status: 'loading', data: null, error: null });
      try {
        const data = await api.getCard(dealId);
        if (seq === loadSeqRef.current) setLoad({ status: 'ready', data, error: null });
      } catch (error) {
        // A silent refresh that fails keeps what is on screen.
        if (seq === loadSeqRef.current && !silent) setLoad({ status: 'error', data: null, error: toApiError(error) });
      }
    },
    [api, dealId],
  );

  useEffect(() => {
    void fetchCard(false);
  }, [fetchCard]);

  useEffect(
    () => () => {
      generationRef.current += 1;
      clearTimer();
    },
    [],
  );

  const settle = useCallback(
    (invoice: Invoice) => {
      setBusy(false);
      setAction(invoice.status === 'failed' ? { phase: 'failed', invoice, retryError: null } : { phase: 'succeeded', invoice });
      // The worker wrote the deal's Qonto properties: have HubSpot re-read them.
      try {
        refreshObjectProperties();
      } catch {
        // The host may refuse outside a record page; the card itself is still right.
      }
      void fetchCard(true);
    },
    [fetchCard, refreshObjectProperties, setAction, setBusy],
  );

  /** Polls a pending invoice until it settles or `pollTimeoutMs` has passed. */
  const track = useCallback(
    (invoice: Invoice, generation: number) => {
      if (invoice.status !== 'pending') {
        settle(invoice);
        return;
      }
      setAction({ phase: 'polling', invoice });
      const startedAt = Date.now();
      const tick = (current: Invoice) => {
        timerRef.current = setTimeout(async () => {
          timerRef.current = null;
          if (generation !== generationRef.current) return;
          let next = current;
          try {
            next = await api.getInvoice(current.id);
          } catch (error) {
            const apiError = toApiError(error);
            if (!apiError.outcomeUnknown) {
              if (generation !== generationRef.current) return;
              setBusy(false);
              setAction({ phase: 'refused', error: apiError });
              return;
            }
            // No answer this time: keep polling until the deadline.
          }
          if (generation !== generationRef.current) return;
          if (next.status !== 'pending') {
            settle(next);
            return;
          }
          if (Date.now() - startedAt >= pollTimeoutMs) {
            setBusy(false);
            setAction({ phase: 'timeout', invoice: next });
            void fetchCard(true);
            return;
          }
          if (next !== current) setAction({ phase: 'polling', invoice: next });
          tick(next);
        }, pollIntervalMs);
      };
      tick(invoice);
    },
    [api, fetchCard, pollIntervalMs, pollTimeoutMs, setAction, setBusy, settle],
  );

  const send = useCallback(
    async (request: CreateInvoiceRequest) => {
      const generation = ++generationRef.current;
      clearTimer();
      setBusy(true);
      unansweredRef.current = request;
      setAction({ phase: 'sending', request });
      let invoice: Invoice;
      try {
        invoice = await api.createInvoice(dealId, request);
      } catch (error) {
        if (generation !== generationRef.current) return;
        const apiError = toApiError(error);
        setBusy(false);
        if (apiError.outcomeUnknown) {
          // The server may have queued it: keep the key so sending again cannot make a second invoice.
          setAction({ phase: 'sendFailed', error: apiError, request });
        } else {
          unansweredRef.current = null;
          setAction({ phase: 'refused', error: apiError });
        }
        return;
      }
      unansweredRef.current = null;
      if (generation !== generationRef.current) return;
      track(invoice, generation);
    },
    [api, dealId, setAction, setBusy, track],
  );

  const generate = useCallback(
    (
      kind: InvoiceKind,
      percentage: number | null = null,
      options: { vat_mode?: VatMode | null; confirm_shared_client?: boolean } = {},
    ) => {
      if (busyRef.current) return; // a second click while the first is in flight sends nothing
      const pct = kind === 'deposit' ? percentage : null;
      const vatMode = options.vat_mode ?? null;
      const confirm = !!options.confirm_shared_client;
      const previous = unansweredRef.current;
      const sameRequest =
        previous !== null &&
        previous.kind === kind &&
        previous.percentage === pct &&
        (previous.vat_mode ?? null) === vatMode &&
        !!previous.confirm_shared_client === confirm;
      const request: CreateInvoiceRequest = {
        kind,
        percentage: pct,
        idempotency_key: sameRequest ? previous.idempotency_key : newIdempotencyKey(),
        ...(vatMode ? { vat_mode: vatMode } : {}),
        ...(confirm ? { confirm_shared_client: true } : {}),
      };
      void send(request);
    },
    [send],
  );

  const refresh = useCallback(() => {
    if (busyRef.current) return;
    const seq = ++loadSeqRef.current;
    setRefreshing(true);
    setRefreshError(null);
    api.refreshCard(dealId).then(
      (data) => {
        if (seq === loadSeqRef.current) setLoad({ status: 'ready', data, error: null });
        setRefreshing(false);
        try {
          refreshObjectProperties();
        } catch {
          // Outside a record page the host may refuse; the card itself is fresh.
        }
      },
      (error: unknown) => {
        setRefreshing(false);
        setRefreshError(toApiError(error));
      },
    );
  }, [api, dealId, refreshObjectProperties]);

  const resend = useCallback(() => {
    const current = actionRef.current;
    if (busyRef.current || current.phase !== 'sendFailed') return;
    void send(current.request);
  }, [send]);

  const retry = useCallback(() => {
    const current = actionRef.current;
    if (busyRef.current || current.phase !== 'failed') return;
    const failed = current.invoice;
    const generation = ++generationRef.current;
    clearTimer();
    setBusy(true);
    setAction({ phase: 'retrying', invoice: failed });
    api.retryInvoice(failed.id).then(
      (requeued) => {
        if (generation !== generationRef.current) return;
        track(requeued ?? { ...failed, status: 'pending', error: null }, generation);
      },
      (error: unknown) => {
        if (generation !== generationRef.current) return;
        setBusy(false);
        setAction({ phase: 'failed', invoice: failed, retryError: toApiError(error) });
      },
    );
  }, [api, setAction, setBusy, track]);

  const reload = useCallback(() => {
    void fetchCard(false);
  }, [fetchCard]);

  const reloadSilently = useCallback(() => {
    void fetchCard(true);
    try {
      refreshObjectProperties();
    } catch {
      // Outside a record page the host may refuse; the card itself is fresh.
    }
  }, [fetchCard, refreshObjectProperties]);

  const dismiss = useCallback(() => {
    if (busyRef.current) return;
    setAction({ phase: 'idle' });
  }, [setAction]);

  return {
    load, action, busy, generate, resend, retry, reload, reloadSilently, dismiss, refresh, refreshing, refreshError,
  };
}

/** The invoice an action is about, shown in the table over the loaded list. */
export function trackedInvoice(action: ActionState): Invoice | null {
  switch (action.phase) {
    case 'polling':
    case 'retrying':
    case 'succeeded':
    case 'failed':
    case 'timeout':
      return action.invoice;
    default:
      return null;
  }
}

/** The rows to show: the loaded invoices, with the tracked one replaced or added on top. */
export function visibleInvoices(invoices: Invoice[], action: ActionState): Invoice[] {
  if (action.phase === 'sending') {
    const { request } = action;
    const placeholder: Invoice = {
      id: `pending:${request.idempotency_key}`,
      kind: request.kind,
      percentage: request.percentage === null ? null : String(request.percentage),
      status: 'pending',
      number: null,
      issue_date: null,
      due_date: null,
      total_amount: null,
      vat_amount: null,
      currency: 'EUR',
      qonto_url: null,
      error: null,
      created_at: new Date().toISOString(),
    };
    return [placeholder, ...invoices];
  }
  const tracked = trackedInvoice(action);
  if (!tracked) return invoices;
  if (invoices.some((invoice) => invoice.id === tracked.id)) {
    return invoices.map((invoice) => (invoice.id === tracked.id ? tracked : invoice));
  }
  return [tracked, ...invoices];
}
