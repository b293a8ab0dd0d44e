// React in scope also for builds that use the classic JSX transform.
import React, { useCallback, useRef, useState } from 'react';
import { Alert, Button, Flex, Link, Text, TextArea, Input } from '@hubspot/ui-extensions';
import { ApiError, newIdempotencyKey } from '../api';
import type { CardApi, Invoice } from '../api';
import { formatDateTime } from '../format';
import type { Messages } from '../i18n';
import { describeError } from './ActionFeedback';

const POLL_MS = 1500;
const POLL_TRIES = 80;

interface Props {
  invoices: Invoice[];
  api: CardApi;
  t: Messages;
  /** The tenant may act (active or grace). */
  enabled: boolean;
  /** Called once an action settles: the card re-reads itself and the deal's properties. */
  onSettled: () => void;
  pollMs?: number;
}

function inFlight(invoice: Invoice): boolean {
  const status = invoice.last_action?.status;
  return status === 'pending' || status === 'running';
}

/**
 * Finalize a draft and send a finalized invoice by e-mail through Qonto, one invoice at a time;
 * the PDF link, when it was sent, and Qonto's e-invoicing status.
 */
export function InvoiceFollowUp({ invoices, api, t, enabled, onSettled, pollMs = POLL_MS }: Props) {
  const rows = invoices.filter(
    (i) => i.can_finalize || i.can_send || i.pdf_url || i.sent_at || i.einvoicing_label || i.last_action,
  );
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [sendFor, setSendFor] = useState<string | null>(null);
  const [recipients, setRecipients] = useState('');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const busyRef = useRef(false);

  const track = useCallback(
    async (invoice: Invoice) => {
      let current = invoice;
      for (let n = 0; n < POLL_TRIES && inFlight(current); n += 1) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        try {
          current = await api.getInvoice(invoice.id);
        } catch {
          // No answer this time: keep polling.
        }
      }
      busyRef.current = false;
      setBusyId(null);
      onSettled();
    },
    [api, onSettled, pollMs],
  );

  const run = useCallback(
    async (invoice: Invoice, call: () => Promise<Invoice>) => {
      if (busyRef.current) return; // a second click while the first is in flight sends nothing
      busyRef.current = true;
      setBusyId(invoice.id);
      setError(null);
      try {
        const answered = await call();
        setSendFor(null);
        await track(answered);
      } catch (caught) {
        busyRef.current = false;
        setBusyId(null);
        setError(caught instanceof ApiError ? caught : new ApiError({ status: 0, code: 'client_error' }));
      }
    },
    [track],
  );

  if (rows.length === 0) return null;
  return (
    <Flex direction="column" gap="sm" testId="follow-up">
      {error ? (
        <Alert title={t.actionRefusedTitle} variant="danger" testId="follow-up-error">
          {describeError(t, error)}
        </Alert>
      ) : null}
      {rows.map((invoice) => {
        const label = invoice.number || t.draftNumber;
        const sentAt = formatDateTime(t, invoice.sent_at);
        const busy = busyId === invoice.id || inFlight(invoice);
        return (
          <Flex key={invoice.id} direction="column" gap="xs" testId={`follow-up-${invoice.id}`}>
            <Text format={{ fontWeight: 'demibold' }}>{label}</Text>
            {sentAt ? <Text testId={`sent-at-${invoice.id}`}>{t.sentOn(sentAt)}</Text> : null}
            {invoice.einvoicing_label ? (
              <Text testId={`einvoicing-${invoice.id}`}>{invoice.einvoicing_label}</Text>
            ) : null}
            {invoice.pdf_url ? (
              <Link href={{ url: invoice.pdf_url, external: true }} testId={`pdf-link-${invoice.id}`}>
                {t.openPdf}
              </Link>
            ) : null}
            {invoice.last_action?.status === 'failed' && invoice.last_action.error ? (
              <Alert title={t.actionFailedTitle} variant="warning" testId={`action-error-${invoice.id}`}>
                {invoice.last_action.error.message}
              </Alert>
            ) : null}
            {busy ? <Text testId={`action-working-${invoice.id}`}>{t.working}</Text> : null}
            {invoice.can_finalize ? (
              <Button
                variant="primary"
                disabled={!enabled || busy || busyId !== null}
                onClick={() => void run(invoice, () => api.finalizeInvoice(invoice.id, newIdempotencyKey()))}
                testId={`finalize-${invoice.id}`}
              >
                {t.finalize}
              </Button>
            ) : null}
            {invoice.can_finalize ? <Text variant="microcopy">{t.finalizeHint}</Text> : null}
            {invoice.can_send && sendFor !== invoice.id ? (
              <Button
                variant="secondary"
                disabled={!enabled || busy || busyId !== null}
                onClick={() => {
                  setSendFor(invoice.id);
                  setSubject(t.defaultSubject(label));
                }}
                testId={`open-send-${invoice.id}`}
              >
                {t.sendByEmail}
              </Button>
            ) : null}
            {invoice.can_send && sendFor === invoice.id ? (
              <Flex direction="column" gap="xs" testId={`send-form-${invoice.id}`}>
                <Input
                  label={t.recipientsLabel}
                  name="send_to"
                  description={t.recipientsHint}
                  value={recipients}
                  onChange={setRecipients}
                  testId="send-to"
                />
                <Input label={t.subjectLabel} name="email_title" value={subject} onChange={setSubject} testId="email-title" />
                <TextArea label={t.messageLabel} name="email_body" value={body} onChange={setBody} testId="email-body" />
                <Button
                  variant="primary"
                  disabled={!enabled || busyId !== null}
                  onClick={() =>
                    void run(invoice, () =>
                      api.sendInvoice(invoice.id, {
                        idempotency_key: newIdempotencyKey(),
                        send_to: recipients.split(/[,;\s]+/).filter(Boolean),
                        email_title: subject,
                        email_body: body,
                      }),
                    )
                  }
                  testId={`send-${invoice.id}`}
                >
                  {t.send}
                </Button>
              </Flex>
            ) : null}
            {invoice.can_send ? <Text variant="microcopy">{t.einvoiceNotOffered}</Text> : null}
          </Flex>
        );
      })}
    </Flex>
  );
}
