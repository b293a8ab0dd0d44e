// React in scope also for builds that use the classic JSX transform.
import React from 'react';
import {
  Flex,
  Link,
  StatusTag,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { Invoice, InvoiceStatus } from '../api';
import { formatDate, formatMoney, isOverdue } from '../format';
import { kindLabel } from '../i18n';
import type { Messages } from '../i18n';

type TagVariant = 'danger' | 'warning' | 'info' | 'success' | 'default';

const STATUS_VARIANT: Record<InvoiceStatus, TagVariant> = {
  pending: 'info',
  draft: 'default',
  unpaid: 'warning',
  paid: 'success',
  canceled: 'default',
  failed: 'danger',
};

export function statusTag(t: Messages, invoice: Invoice, today?: string): { label: string; variant: TagVariant } {
  if (isOverdue(invoice, today)) return { label: t.overdue, variant: 'danger' };
  return {
    label: t.status[invoice.status] ?? String(invoice.status),
    variant: STATUS_VARIANT[invoice.status] ?? 'default',
  };
}

export function InvoiceTable({ invoices, t, today }: { invoices: Invoice[]; t: Messages; today?: string }) {
  if (invoices.length === 0) {
    return <Text testId="no-invoices">{t.noInvoices}</Text>;
  }
  const notices = invoices.flatMap((invoice) => (invoice.notices ?? []).map((notice) => ({ invoice, notice })));
  return (
    <Flex direction="column" gap="xs">
    <Table bordered={true} density="compact" testId="invoice-table">
      <TableHead>
        <TableRow>
          <TableHeader>{t.colNumber}</TableHeader>
          <TableHeader>{t.colKind}</TableHeader>
          <TableHeader align="right">{t.colTotal}</TableHeader>
          <TableHeader>{t.colStatus}</TableHeader>
          <TableHeader>{t.colDueDate}</TableHeader>
          <TableHeader>{t.colLink}</TableHeader>
        </TableRow>
      </TableHead>
      <TableBody>
        {invoices.map((invoice) => {
          const tag = statusTag(t, invoice, today);
          return (
            <TableRow key={invoice.id} testId={`invoice-row-${invoice.id}`}>
              {/* No number before Qonto gives one: "—" (the status tag says Brouillon, once). */}
              <TableCell>{invoice.number || '—'}</TableCell>
              <TableCell>{kindLabel(t, invoice.kind, invoice.percentage)}</TableCell>
              <TableCell align="right">{formatMoney(t, invoice.total_amount, invoice.currency)}</TableCell>
              <TableCell>
                <StatusTag variant={tag.variant} testId={`status-${invoice.id}`}>
                  {tag.label}
                </StatusTag>
              </TableCell>
              <TableCell>{formatDate(t, invoice.due_date)}</TableCell>
              <TableCell>
                {invoice.qonto_url || invoice.payment_url ? (
                  <Flex direction="column" gap="flush">
                    {invoice.qonto_url ? (
                      <Link href={{ url: invoice.qonto_url, external: true }} testId={`qonto-link-${invoice.id}`}>
                        {t.openInQonto}
                      </Link>
                    ) : null}
                    {invoice.payment_url ? (
                      <Link href={{ url: invoice.payment_url, external: true }} testId={`payment-link-${invoice.id}`}>
                        {t.paymentLink}
                      </Link>
                    ) : null}
                  </Flex>
                ) : (
                  t.notApplicable
                )}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
      {notices.map(({ invoice, notice }) => (
        <Text key={`${invoice.id}-${notice.code}`} variant="microcopy" testId={`invoice-notice-${invoice.id}`}>
          {notice.message}
        </Text>
      ))}
    </Flex>
  );
}
