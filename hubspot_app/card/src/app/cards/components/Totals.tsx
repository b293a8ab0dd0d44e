// React in scope also for builds that use the classic JSX transform.
import React from 'react';
import { DescriptionList, DescriptionListItem, Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { CardData } from '../api';
import { formatDateTime, formatMoney } from '../format';
import type { Messages } from '../i18n';

/** Deal amount, invoiced, paid, left to invoice (all excluding VAT). */
export function Totals({ data, t }: { data: CardData; t: Messages }) {
  const currency = data.deal.currency || 'EUR';
  // "Read from Qonto" when the backend says so (Refresh or a successful sync), else the last sync.
  const read = formatDateTime(t, data.last_read_at);
  const synced = formatDateTime(t, data.last_synced_at);
  return (
    <Flex direction="column" gap="xs">
      <Heading>{t.totalsHeading}</Heading>
      <DescriptionList direction="row" testId="totals">
        <DescriptionListItem label={t.totalDealAmount} testId="total-deal-amount">
          <Text>{formatMoney(t, data.totals.deal_amount, currency)}</Text>
        </DescriptionListItem>
        <DescriptionListItem label={t.totalInvoiced} testId="total-invoiced">
          <Text>{formatMoney(t, data.totals.invoiced, currency)}</Text>
        </DescriptionListItem>
        <DescriptionListItem label={t.totalPaid} testId="total-paid">
          <Text>{formatMoney(t, data.totals.paid, currency)}</Text>
        </DescriptionListItem>
        <DescriptionListItem label={t.totalLeft} testId="total-left">
          <Text format={{ fontWeight: 'bold' }}>{formatMoney(t, data.totals.left_to_invoice, currency)}</Text>
        </DescriptionListItem>
      </DescriptionList>
      {'last_read_at' in data && data.invoices.length > 0 ? (
        <Text variant="microcopy" testId="last-read">
          {read ? t.lastRead(read) : t.neverRead}
        </Text>
      ) : synced ? (
        <Text variant="microcopy">{t.lastSynced(synced)}</Text>
      ) : null}
    </Flex>
  );
}
