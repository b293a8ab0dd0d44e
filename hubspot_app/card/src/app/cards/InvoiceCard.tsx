/**
 * Entry point of the "Qonto invoices" app card (deal record sidebar): readiness, invoices,
 * totals and the Generate / Deposit / Balance buttons. Talks to our backend only through
 * `hubspot.fetch` (see api.ts and shared/spec/card-api.md).
 */
// React in scope also for builds that use the classic JSX transform.
import React, { useCallback, useMemo } from 'react';
import { Alert, Button, Divider, Flex, Heading, LoadingSpinner, hubspot } from '@hubspot/ui-extensions';
import type { CrmContext } from '@hubspot/ui-extensions';
import { createCardApi, identityFromContext } from './api';
import { ActionFeedback, describeError } from './components/ActionFeedback';
import { InvoiceActions } from './components/InvoiceActions';
import { InvoiceFollowUp } from './components/InvoiceFollowUp';
import { InvoiceTable } from './components/InvoiceTable';
import { Readiness } from './components/Readiness';
import { OPERATIONAL_STATUSES, TenantNotice } from './components/TenantNotice';
import { Totals } from './components/Totals';
import { getMessages } from './i18n';
import { useCard, visibleInvoices } from './useCard';
import type { CardTimings } from './useCard';

hubspot.extend<'crm.record.sidebar'>(({ context, actions }) => <InvoiceCard context={context} actions={actions} />);

export interface InvoiceCardProps {
  context: Pick<CrmContext, 'crm' | 'portal' | 'user'>;
  actions: { refreshObjectProperties: () => void };
  /** Polling cadence; tests shorten it. */
  timings?: CardTimings;
  /** `YYYY-MM-DD` used for "overdue"; defaults to the user's local today. */
  today?: string;
}

export function InvoiceCard({ context, actions, timings, today }: InvoiceCardProps) {
  const t = useMemo(() => getMessages(context.user.locale), [context.user.locale]);
  const portalId = context.portal.id;
  const userId = context.user.id;
  const userEmail = context.user.email;
  const api = useMemo(
    () => createCardApi(identityFromContext({ portal: { id: portalId }, user: { id: userId, email: userEmail } })),
    [portalId, userId, userEmail],
  );
  const refreshObjectProperties = useCallback(() => actions.refreshObjectProperties(), [actions]);
  const card = useCard({ dealId: context.crm.objectId, api, refreshObjectProperties, timings });
  const { load, action } = card;

  if (load.status === 'loading') {
    return <LoadingSpinner label={t.loading} showLabel={true} layout="centered" testId="card-loading" />;
  }

  if (load.status === 'error') {
    return (
      <Flex direction="column" gap="sm">
        <Alert title={t.loadFailedTitle} variant="danger" testId="load-error">
          {describeError(t, load.error)}
        </Alert>
        <Button variant="secondary" onClick={card.reload} testId="reload">
          {t.reload}
        </Button>
      </Flex>
    );
  }

  const { data } = load;
  const enabled = OPERATIONAL_STATUSES.has(data.tenant.status);
  const sharedClient = (data.readiness.warnings ?? []).some((w) => w.code === 'shared_tax_id');
  return (
    <Flex direction="column" gap="md">
      <TenantNotice tenant={data.tenant} t={t} />
      <Readiness data={data} t={t} />
      <Divider />
      <Flex direction="column" gap="xs">
        <Flex direction="row" justify="between" align="center">
          <Heading>{t.invoicesHeading}</Heading>
          <Button variant="transparent" size="sm" disabled={card.refreshing || card.busy} onClick={card.refresh} testId="refresh">
            {card.refreshing ? t.refreshing : t.refresh}
          </Button>
        </Flex>
        {card.refreshError ? (
          <Alert title={t.refreshFailedTitle} variant="warning" testId="refresh-error">
            {describeError(t, card.refreshError)}
          </Alert>
        ) : null}
        <InvoiceTable invoices={visibleInvoices(data.invoices, action)} t={t} today={today} />
        <InvoiceFollowUp
          invoices={data.invoices}
          api={api}
          t={t}
          enabled={enabled && !card.busy}
          onSettled={card.reloadSilently}
          pollMs={timings?.pollIntervalMs}
        />
      </Flex>
      <Totals data={data} t={t} />
      <Divider />
      <InvoiceActions
        t={t}
        enabled={enabled}
        busy={card.busy}
        actions={data.actions}
        vat={data.vat}
        needsSharedClientConfirmation={sharedClient}
        onGenerate={card.generate}
      />
      <ActionFeedback
        action={action}
        t={t}
        onRetry={card.retry}
        onResend={card.resend}
        onReload={card.reload}
        onDismiss={card.dismiss}
      />
    </Flex>
  );
}
