/**
 * Every word the card shows goes through here. French is the default: only a user whose HubSpot
 * locale is English (`en`, `en-us`, `en-gb`, …) gets English.
 */
import type { InvoiceKind, InvoiceStatus, TenantStatus } from './api';

export type Lang = 'fr' | 'en';

export interface Messages {
  lang: Lang;
  /** BCP 47 tag used for Intl number and date formatting. */
  intlLocale: string;
  loading: string;
  loadFailedTitle: string;
  reload: string;
  unknownError: string;
  networkError: string;
  tenantTitle: Record<Exclude<TenantStatus, 'active'>, string>;
  tenantMessage: Record<Exclude<TenantStatus, 'active'>, string>;
  tenantUnknownTitle: string;
  tenantUnknownMessage: string;
  openSettings: string;
  readinessHeading: string;
  readyLabel: string;
  notReadyIntro: string;
  fullyInvoicedTitle: string;
  warningsTitle: string;
  fieldToFix: (label: string) => string;
  fieldLabels: Record<string, string>;
  /** `line_items[2].quantity` → "Ligne 3 › quantité". */
  lineFieldLabel: (n: number, field: string) => string;
  lineFields: Record<string, string>;
  openCompany: string;
  openToFix: string;
  invoicesHeading: string;
  noInvoices: string;
  colNumber: string;
  colKind: string;
  colTotal: string;
  colStatus: string;
  colDueDate: string;
  colLink: string;
  draftNumber: string;
  kindFull: string;
  kindDeposit: (percentage: string | null) => string;
  kindBalance: string;
  kindImported: string;
  status: Record<InvoiceStatus, string>;
  overdue: string;
  openInQonto: string;
  paymentLink: string;
  totalsHeading: string;
  totalDealAmount: string;
  totalInvoiced: string;
  totalPaid: string;
  totalLeft: string;
  lastSynced: (when: string) => string;
  lastRead: (when: string) => string;
  neverRead: string;
  refresh: string;
  refreshing: string;
  refreshFailedTitle: string;
  vatModeLabel: string;
  vatModeOptions: Record<'standard' | 'reverse_charge', string>;
  vatModeLocked: string;
  confirmSharedClient: string;
  actionsHeading: string;
  generateFull: string;
  /** Deposit button; the percentage is shown once it is valid. */
  generateDeposit: (percentage: string | null) => string;
  generateBalance: string;
  percentageLabel: string;
  percentageDescription: string;
  percentageInvalid: string;
  buttonsDisabledHint: string;
  working: string;
  stillWorkingTitle: string;
  stillWorkingMessage: string;
  successTitle: string;
  successMessage: (kind: string) => string;
  failedTitle: string;
  retry: string;
  refusedTitle: string;
  sendFailedTitle: string;
  sendAgain: string;
  retryRefusedTitle: string;
  dismiss: string;
  notApplicable: string;
  // Finalize and send from the card; the PDF; e-invoicing.
  finalize: string;
  finalizeHint: string;
  sendByEmail: string;
  send: string;
  recipientsLabel: string;
  recipientsHint: string;
  subjectLabel: string;
  messageLabel: string;
  defaultSubject: (number: string) => string;
  sentOn: (when: string) => string;
  openPdf: string;
  actionRefusedTitle: string;
  actionFailedTitle: string;
  einvoiceNotOffered: string;
  einvoicingHeading: string;
}

const fr: Messages = {
  lang: 'fr',
  intlLocale: 'fr-FR',
  loading: 'Chargement des factures Qonto…',
  loadFailedTitle: 'Impossible de charger les factures',
  reload: 'Recharger',
  unknownError: 'Une erreur inattendue est survenue. Réessayez dans un instant.',
  networkError: 'Le serveur Qonto Connector ne répond pas. Vérifiez votre connexion et réessayez.',
  tenantTitle: {
    grace: 'Paiement de l’abonnement en échec',
    needs_qonto: 'Qonto n’est pas connecté',
    needs_plan: 'Aucun abonnement actif',
    suspended: 'Compte suspendu',
    uninstalled: 'Application désinstallée',
  },
  tenantMessage: {
    grace: 'Le dernier paiement a échoué. La facturation reste active quelques jours : mettez à jour votre moyen de paiement.',
    needs_qonto: 'Connectez votre compte Qonto dans les réglages pour générer des factures.',
    needs_plan: 'Choisissez un abonnement dans les réglages pour générer des factures.',
    suspended: 'Votre abonnement est suspendu. Régularisez-le dans les réglages pour générer des factures.',
    uninstalled: 'Qonto Connector n’est plus installé sur ce compte HubSpot. Réinstallez-le pour générer des factures.',
  },
  tenantUnknownTitle: 'Facturation indisponible',
  tenantUnknownMessage: 'La génération de factures est indisponible pour ce compte. Ouvrez les réglages pour en savoir plus.',
  openSettings: 'Ouvrir les réglages',
  readinessHeading: 'Prêt à facturer ?',
  readyLabel: 'Toutes les informations nécessaires sont présentes',
  notReadyIntro: 'À corriger avant de facturer :',
  fullyInvoicedTitle: 'Transaction entièrement facturée',
  warningsTitle: 'À savoir avant de facturer',
  fieldToFix: (label) => `Champ à corriger : ${label}`,
  fieldLabels: {
    'company': 'Entreprise associée',
    'company.name': 'Entreprise › nom',
    'company.address': 'Entreprise › adresse',
    'company.city': 'Entreprise › ville',
    'company.zip': 'Entreprise › code postal',
    'company.country': 'Entreprise › pays',
    'company.siret': 'Entreprise › SIRET',
    'company.vat_number': 'Entreprise › n° de TVA intracommunautaire',
    'deal.company': 'Transaction › entreprise associée',
    'deal.amount': 'Transaction › montant',
    'deal.currency': 'Transaction › devise',
    'deal.line_items': 'Transaction › lignes de produit',
    'settings.iban': 'Réglages › compte de réception (IBAN)',
    'settings.vat_rate': 'Réglages › taux de TVA par défaut',
    'percentage': 'Pourcentage de l’acompte',
  },
  lineFieldLabel: (n, field) => `Ligne ${n} › ${field}`,
  lineFields: {
    name: 'nom',
    quantity: 'quantité',
    price: 'prix unitaire',
    discount: 'remise',
    discount_percentage: 'remise',
    tax_rate: 'taux de TVA',
    currency: 'devise',
  },
  openCompany: 'Ouvrir l’entreprise dans HubSpot',
  openToFix: 'Ouvrir les réglages',
  invoicesHeading: 'Factures',
  noInvoices: 'Aucune facture pour cette transaction.',
  colNumber: 'Numéro',
  colKind: 'Type',
  colTotal: 'Total TTC',
  colStatus: 'Statut',
  colDueDate: 'Échéance',
  colLink: 'Lien',
  draftNumber: 'Brouillon',
  kindFull: 'Facture',
  kindDeposit: (p) => (p ? `Acompte ${p} %` : 'Acompte'),
  kindBalance: 'Solde',
  kindImported: 'Facture existante',
  status: {
    pending: 'En cours',
    draft: 'Brouillon',
    unpaid: 'À payer',
    paid: 'Payée',
    canceled: 'Annulée',
    failed: 'Échec',
  },
  overdue: 'En retard',
  openInQonto: 'Ouvrir dans Qonto',
  paymentLink: 'Lien de paiement client',
  totalsHeading: 'Totaux (HT)',
  totalDealAmount: 'Montant de la transaction',
  totalInvoiced: 'Facturé',
  totalPaid: 'Payé',
  totalLeft: 'Reste à facturer',
  lastSynced: (when) => `Statuts synchronisés le ${when}`,
  lastRead: (when) => `Lu dans Qonto le ${when} (heure de Paris)`,
  neverRead: 'Pas encore lu dans Qonto',
  refresh: 'Actualiser',
  refreshing: 'Lecture dans Qonto…',
  refreshFailedTitle: 'Actualisation impossible',
  vatModeLabel: 'TVA de la facture',
  vatModeOptions: {
    reverse_charge: 'Autoliquidation (0 %, TVA due par le client)',
    standard: 'TVA française',
  },
  vatModeLocked: 'Imposée par les factures déjà faites pour cette transaction.',
  confirmSharedClient: 'Je confirme : facturer ce client Qonto',
  actionsHeading: 'Facturer',
  generateFull: 'Générer la facture',
  generateDeposit: (p) => (p ? `Acompte de ${p} %` : 'Acompte'),
  generateBalance: 'Solde',
  percentageLabel: 'Pourcentage de l’acompte',
  percentageDescription: 'Entre 1 et 99 %',
  percentageInvalid: 'Saisissez un pourcentage entier entre 1 et 99.',
  buttonsDisabledHint: 'Les boutons sont désactivés tant que le compte n’est pas opérationnel.',
  working: 'Création de la facture dans Qonto…',
  stillWorkingTitle: 'La création prend plus de temps que prévu',
  stillWorkingMessage: 'La facture est toujours en cours de création. Rechargez la carte dans quelques minutes pour voir le résultat.',
  successTitle: 'Facture brouillon créée dans Qonto',
  successMessage: (kind) => `${kind} créée en brouillon : vérifiez-la puis finalisez-la dans Qonto.`,
  failedTitle: 'La création de la facture a échoué',
  retry: 'Réessayer',
  refusedTitle: 'Impossible de créer la facture',
  sendFailedTitle: 'La demande n’a pas abouti',
  sendAgain: 'Renvoyer la demande',
  retryRefusedTitle: 'Impossible de relancer la facture',
  dismiss: 'Fermer',
  notApplicable: '—',
  finalize: 'Finaliser la facture',
  finalizeHint: 'Qonto numérote la facture et la rend définitive (elle ne sera plus modifiable).',
  sendByEmail: 'Envoyer par e-mail…',
  send: 'Envoyer',
  recipientsLabel: 'Destinataires',
  recipientsHint: 'Séparés par des virgules. Vide : l’e-mail du client dans Qonto.',
  subjectLabel: 'Objet',
  messageLabel: 'Message (facultatif)',
  defaultSubject: (number) => `Facture ${number}`,
  sentOn: (when) => `Envoyée le ${when}`,
  openPdf: 'PDF de la facture',
  actionRefusedTitle: 'Action refusée',
  actionFailedTitle: 'La dernière action a échoué',
  einvoiceNotOffered:
    'Envoi par facture électronique : non proposé ici pour l’instant (Qonto ne l’offre qu’en production, pour un client joignable sur le réseau) ; faites-le depuis Qonto.',
  einvoicingHeading: 'Facturation électronique (obligatoire pour les PME dès 09/2027)',
};

const en: Messages = {
  lang: 'en',
  intlLocale: 'en-US',
  loading: 'Loading Qonto invoices…',
  loadFailedTitle: 'Could not load the invoices',
  reload: 'Reload',
  unknownError: 'Something unexpected went wrong. Please try again in a moment.',
  networkError: 'The Qonto Connector server is not answering. Check your connection and try again.',
  tenantTitle: {
    grace: 'Subscription payment failed',
    needs_qonto: 'Qonto is not connected',
    needs_plan: 'No active subscription',
    suspended: 'Account suspended',
    uninstalled: 'App uninstalled',
  },
  tenantMessage: {
    grace: 'The last payment failed. Invoicing keeps working for a few days: please update your payment method.',
    needs_qonto: 'Connect your Qonto account in the settings to generate invoices.',
    needs_plan: 'Choose a subscription in the settings to generate invoices.',
    suspended: 'Your subscription is suspended. Settle it in the settings to generate invoices.',
    uninstalled: 'Qonto Connector is no longer installed on this HubSpot account. Reinstall it to generate invoices.',
  },
  tenantUnknownTitle: 'Invoicing unavailable',
  tenantUnknownMessage: 'Invoice generation is unavailable for this account. Open the settings to learn more.',
  openSettings: 'Open settings',
  readinessHeading: 'Ready to invoice?',
  readyLabel: 'All the required information is present',
  notReadyIntro: 'To fix before invoicing:',
  fullyInvoicedTitle: 'Deal fully invoiced',
  warningsTitle: 'To know before invoicing',
  fieldToFix: (label) => `Field to fix: ${label}`,
  fieldLabels: {
    'company': 'Associated company',
    'company.name': 'Company › name',
    'company.address': 'Company › address',
    'company.city': 'Company › city',
    'company.zip': 'Company › postal code',
    'company.country': 'Company › country',
    'company.siret': 'Company › SIRET',
    'company.vat_number': 'Company › EU VAT number',
    'deal.company': 'Deal › associated company',
    'deal.amount': 'Deal › amount',
    'deal.currency': 'Deal › currency',
    'deal.line_items': 'Deal › line items',
    'settings.iban': 'Settings › receiving account (IBAN)',
    'settings.vat_rate': 'Settings › default VAT rate',
    'percentage': 'Deposit percentage',
  },
  lineFieldLabel: (n, field) => `Line ${n} › ${field}`,
  lineFields: {
    name: 'name',
    quantity: 'quantity',
    price: 'unit price',
    discount: 'discount',
    discount_percentage: 'discount',
    tax_rate: 'VAT rate',
    currency: 'currency',
  },
  openCompany: 'Open the company in HubSpot',
  openToFix: 'Open settings',
  invoicesHeading: 'Invoices',
  noInvoices: 'No invoice for this deal yet.',
  colNumber: 'Number',
  colKind: 'Type',
  colTotal: 'Total incl. VAT',
  colStatus: 'Status',
  colDueDate: 'Due date',
  colLink: 'Link',
  draftNumber: 'Draft',
  kindFull: 'Invoice',
  kindDeposit: (p) => (p ? `Deposit ${p}%` : 'Deposit'),
  kindBalance: 'Balance',
  kindImported: 'Existing invoice',
  status: {
    pending: 'Pending',
    draft: 'Draft',
    unpaid: 'Unpaid',
    paid: 'Paid',
    canceled: 'Canceled',
    failed: 'Failed',
  },
  overdue: 'Overdue',
  openInQonto: 'Open in Qonto',
  paymentLink: 'Customer payment link',
  totalsHeading: 'Totals (excl. VAT)',
  totalDealAmount: 'Deal amount',
  totalInvoiced: 'Invoiced',
  totalPaid: 'Paid',
  totalLeft: 'Left to invoice',
  lastSynced: (when) => `Statuses synced on ${when}`,
  lastRead: (when) => `Read from Qonto on ${when} (Paris time)`,
  neverRead: 'Not read from Qonto yet',
  refresh: 'Refresh',
  refreshing: 'Reading from Qonto…',
  refreshFailedTitle: 'Could not refresh',
  vatModeLabel: 'Invoice VAT',
  vatModeOptions: {
    reverse_charge: 'Reverse charge (0%, VAT due by the client)',
    standard: 'French VAT',
  },
  vatModeLocked: 'Set by the invoices already made for this deal.',
  confirmSharedClient: 'I confirm: invoice this Qonto client',
  actionsHeading: 'Invoice',
  generateFull: 'Generate invoice',
  generateDeposit: (p) => (p ? `Deposit ${p}%` : 'Deposit'),
  generateBalance: 'Balance',
  percentageLabel: 'Deposit percentage',
  percentageDescription: 'Between 1 and 99%',
  percentageInvalid: 'Enter a whole percentage between 1 and 99.',
  buttonsDisabledHint: 'The buttons stay disabled until the account is operational.',
  working: 'Creating the invoice in Qonto…',
  stillWorkingTitle: 'This is taking longer than expected',
  stillWorkingMessage: 'The invoice is still being created. Reload the card in a few minutes to see the result.',
  successTitle: 'Draft invoice created in Qonto',
  successMessage: (kind) => `${kind} created as a draft: review it, then finalize it in Qonto.`,
  failedTitle: 'The invoice could not be created',
  retry: 'Retry',
  refusedTitle: 'The invoice cannot be created',
  sendFailedTitle: 'The request did not go through',
  sendAgain: 'Send again',
  retryRefusedTitle: 'The invoice cannot be retried',
  dismiss: 'Dismiss',
  notApplicable: '—',
  finalize: 'Finalize the invoice',
  finalizeHint: 'Qonto numbers the invoice and makes it final (it can no longer be edited).',
  sendByEmail: 'Send by e-mail…',
  send: 'Send',
  recipientsLabel: 'Recipients',
  recipientsHint: 'Comma-separated. Empty: the client’s e-mail in Qonto.',
  subjectLabel: 'Subject',
  messageLabel: 'Message (optional)',
  defaultSubject: (number) => `Invoice ${number}`,
  sentOn: (when) => `Sent on ${when}`,
  openPdf: 'Invoice PDF',
  actionRefusedTitle: 'Action refused',
  actionFailedTitle: 'The last action failed',
  einvoiceNotOffered:
    'Sending as an e-invoice: not offered here yet (Qonto offers it in production only, for a client reachable on the network); do it from Qonto.',
  einvoicingHeading: 'E-invoicing (mandatory for SMEs from 09/2027)',
};

/** Picks the language from HubSpot's `context.user.locale` (e.g. `fr`, `en-us`); French by default. */
export function pickLang(locale: string | null | undefined): Lang {
  return typeof locale === 'string' && /^en([-_]|$)/i.test(locale.trim()) ? 'en' : 'fr';
}

/** Normalises HubSpot's lower-case locale (`en-gb`) into a tag Intl accepts (`en-GB`). */
function intlLocaleFor(lang: Lang, locale: string | null | undefined): string {
  if (lang === 'fr' || typeof locale !== 'string') return lang === 'fr' ? 'fr-FR' : 'en-US';
  const [language, region] = locale.trim().replace('_', '-').split('-');
  const tag = region ? `${language.toLowerCase()}-${region.toUpperCase()}` : 'en-US';
  try {
    return Intl.NumberFormat.supportedLocalesOf([tag]).length > 0 ? tag : 'en-US';
  } catch {
    return 'en-US';
  }
}

export function getMessages(locale: string | null | undefined): Messages {
  const lang = pickLang(locale);
  const base = lang === 'en' ? en : fr;
  return { ...base, intlLocale: intlLocaleFor(lang, locale) };
}

export function kindLabel(t: Messages, kind: InvoiceKind | string, percentage: string | null): string {
  if (kind === 'full') return t.kindFull;
  if (kind === 'deposit') return t.kindDeposit(formatPercentage(t, percentage));
  if (kind === 'balance') return t.kindBalance;
  if (kind === 'imported') return t.kindImported;
  return String(kind);
}

const LINE_FIELD = /^line_items\[(\d+)\]\.(\w+)$/;

/** The field to fix in plain words; `null` for a field we cannot name (never a raw code like "company.siret"). */
export function fieldLabel(t: Messages, field: string | null | undefined): string | null {
  if (!field) return null;
  const known = t.fieldLabels[field];
  if (known) return known;
  const line = LINE_FIELD.exec(field);
  if (line && t.lineFields[line[2]]) return t.lineFieldLabel(Number(line[1]) + 1, t.lineFields[line[2]]);
  return null;
}

/** `"50"` / `"33.50"` → `50` / `33,5` (fr) or `33.5` (en). */
export function formatPercentage(t: Messages, percentage: string | number | null | undefined): string | null {
  if (percentage === null || percentage === undefined || percentage === '') return null;
  const n = Number(percentage);
  if (!Number.isFinite(n)) return String(percentage);
  return new Intl.NumberFormat(t.intlLocale, { maximumFractionDigits: 2 }).format(n);
}
