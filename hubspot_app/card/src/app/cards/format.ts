import type { Invoice } from './api';
import type { Messages } from './i18n';

/** `"7200.00"` → `7 200,00 €` (fr) / `€7,200.00` (en). Shows `—` for a missing amount. */
export function formatMoney(t: Messages, amount: string | null | undefined, currency: string | null = 'EUR'): string {
  if (amount === null || amount === undefined || amount === '') return t.notApplicable;
  const value = Number(amount);
  if (!Number.isFinite(value)) return amount;
  try {
    return new Intl.NumberFormat(t.intlLocale, { style: 'currency', currency: currency || 'EUR' }).format(value);
  } catch {
    // Unknown currency code: still show the number.
    return `${new Intl.NumberFormat(t.intlLocale, { minimumFractionDigits: 2 }).format(value)} ${currency ?? ''}`.trim();
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `"2026-12-25"` → `25/12/2026` (fr) / `12/25/2026` (en-US). */
export function formatDate(t: Messages, isoDate: string | null | undefined): string {
  if (!isoDate) return t.notApplicable;
  const m = ISO_DATE.exec(isoDate);
  if (!m) return isoDate;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(t.intlLocale, { timeZone: 'UTC', day: '2-digit', month: '2-digit', year: 'numeric' }).format(date);
}

/** The product's time zone: every time the card shows is French time, whatever the browser's. */
export const TIME_ZONE = 'Europe/Paris';

/** ISO 8601 timestamp (UTC from the API) → date and time in Europe/Paris, in the user's locale. */
export function formatDateTime(t: Messages, timestamp: string | null | undefined): string | null {
  if (!timestamp) return null;
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return null;
  return new Intl.DateTimeFormat(t.intlLocale, { dateStyle: 'short', timeStyle: 'short', timeZone: TIME_ZONE }).format(date);
}

/** Today's date as `YYYY-MM-DD` in Europe/Paris (an invoice due "today" in France is not overdue). */
export function todayIso(now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(now)
    .reduce<Record<string, string>>((acc, part) => ({ ...acc, [part.type]: part.value }), {});
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** An unpaid invoice whose due date is past. */
export function isOverdue(invoice: Pick<Invoice, 'status' | 'due_date'>, today: string = todayIso()): boolean {
  return invoice.status === 'unpaid' && !!invoice.due_date && ISO_DATE.test(invoice.due_date) && invoice.due_date < today;
}
