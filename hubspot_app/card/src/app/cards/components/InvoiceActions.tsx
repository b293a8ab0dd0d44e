// React in scope also for builds that use the classic JSX transform.
import React, { useEffect, useState } from 'react';
import { Button, ButtonRow, Checkbox, Flex, Heading, NumberInput, Select, Text } from '@hubspot/ui-extensions';
import type { Actions, InvoiceKind, VatInfo, VatMode } from '../api';
import { formatPercentage } from '../i18n';
import type { Messages } from '../i18n';

export const DEFAULT_DEPOSIT_PERCENTAGE = 50;

export function isValidPercentage(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 99;
}

export interface GenerateOptions {
  vat_mode?: VatMode | null;
  confirm_shared_client?: boolean;
}

interface Props {
  t: Messages;
  /** The tenant may invoice (status active or grace). */
  enabled: boolean;
  /** A request is in flight: no second click. */
  busy: boolean;
  /** Which buttons the server allows, and why not (absent from older backends: all allowed). */
  actions?: Actions;
  vat?: VatInfo;
  /** Another HubSpot company with this SIRET is billed to a Qonto client of another name. */
  needsSharedClientConfirmation?: boolean;
  onGenerate: (kind: InvoiceKind, percentage: number | null, options?: GenerateOptions) => void;
}

const KINDS: InvoiceKind[] = ['full', 'deposit', 'balance'];

/** Generate (whole deal), Deposit with its percentage, Balance; the VAT choice outside France. */
export function InvoiceActions({ t, enabled, busy, actions, vat, needsSharedClientConfirmation, onGenerate }: Props) {
  const [percentage, setPercentage] = useState<number | null>(DEFAULT_DEPOSIT_PERCENTAGE);
  const [invalid, setInvalid] = useState(false);
  const preferredMode = vat?.locked_mode ?? vat?.default_mode ?? null;
  const [vatMode, setVatMode] = useState<VatMode | null>(preferredMode);
  const [sharedConfirmed, setSharedConfirmed] = useState(false);
  useEffect(() => setVatMode(preferredMode), [preferredMode]);

  const allowed = (kind: InvoiceKind) => !actions || actions[kind].enabled;
  const disabled = (kind: InvoiceKind) => !enabled || busy || !allowed(kind) || (!!needsSharedClientConfirmation && !sharedConfirmed);
  // One line per distinct reason: a fully invoiced deal says it once, not three times.
  const reasons = enabled && actions
    ? Array.from(new Set(KINDS.filter((k) => !actions[k].enabled).map((k) => actions[k].reason).filter((r): r is string => !!r)))
    : [];

  const options = (): GenerateOptions => ({
    vat_mode: vat?.choice_required ? vatMode : null,
    confirm_shared_client: needsSharedClientConfirmation ? sharedConfirmed : false,
  });

  const onPercentageChange = (value: number | null | undefined) => {
    const next = typeof value === 'number' && Number.isFinite(value) ? value : null;
    setPercentage(next);
    setInvalid(next !== null && !isValidPercentage(next));
  };

  const onDeposit = () => {
    // Checked here so an out-of-range percentage never reaches the server.
    if (!isValidPercentage(percentage)) {
      setInvalid(true);
      return;
    }
    onGenerate('deposit', percentage, options());
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>{t.actionsHeading}</Heading>
      {vat?.choice_required ? (
        <Select
          label={t.vatModeLabel}
          name="vat_mode"
          value={vatMode ?? undefined}
          readOnly={!!vat.locked_mode || vat.modes.length < 2}
          description={vat.locked_mode ? t.vatModeLocked : vatMode === 'reverse_charge' ? vat.reverse_charge_mention ?? undefined : undefined}
          options={vat.modes.map((mode) => ({ label: t.vatModeOptions[mode], value: mode }))}
          onChange={(value) => setVatMode(value as VatMode)}
          testId="vat-mode"
        />
      ) : null}
      {needsSharedClientConfirmation ? (
        <Checkbox name="confirm_shared_client" checked={sharedConfirmed} onChange={(checked) => setSharedConfirmed(checked)} testId="confirm-shared-client">
          {t.confirmSharedClient}
        </Checkbox>
      ) : null}
      <ButtonRow disableDropdown={true}>
        <Button variant="primary" disabled={disabled('full')} onClick={() => onGenerate('full', null, options())} testId="generate-full">
          {t.generateFull}
        </Button>
        <Button variant="secondary" disabled={disabled('balance')} onClick={() => onGenerate('balance', null, options())} testId="generate-balance">
          {t.generateBalance}
        </Button>
      </ButtonRow>
      <Flex direction="row" gap="sm" align="end" wrap={true}>
        <NumberInput
          label={t.percentageLabel}
          name="deposit_percentage"
          description={t.percentageDescription}
          value={percentage ?? undefined}
          min={1}
          max={99}
          precision={0}
          readOnly={!enabled || !allowed('deposit')}
          error={invalid}
          validationMessage={invalid ? t.percentageInvalid : undefined}
          onChange={onPercentageChange}
          testId="deposit-percentage"
        />
        <Button variant="secondary" disabled={disabled('deposit')} onClick={onDeposit} testId="generate-deposit">
          {t.generateDeposit(isValidPercentage(percentage) ? formatPercentage(t, percentage) : null)}
        </Button>
      </Flex>
      {!enabled ? (
        <Text variant="microcopy" testId="buttons-disabled-hint">
          {t.buttonsDisabledHint}
        </Text>
      ) : null}
      {reasons.map((reason, index) => (
        <Text key={index} variant="microcopy" testId="disabled-reason">
          {reason}
        </Text>
      ))}
    </Flex>
  );
}
