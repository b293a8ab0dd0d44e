// React in scope also for builds that use the classic JSX transform.
import React, { useState } from 'react';
import { Button, ButtonRow, Flex, Heading, NumberInput, Text } from '@hubspot/ui-extensions';
import type { InvoiceKind } from '../api';
import { formatPercentage } from '../i18n';
import type { Messages } from '../i18n';

export const DEFAULT_DEPOSIT_PERCENTAGE = 50;

export function isValidPercentage(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 99;
}

interface Props {
  t: Messages;
  /** The tenant may invoice (status active or grace). */
  enabled: boolean;
  /** A request is in flight: no second click. */
  busy: boolean;
  onGenerate: (kind: InvoiceKind, percentage: number | null) => void;
}

/** Generate (whole deal), Deposit with its percentage, Balance. */
export function InvoiceActions({ t, enabled, busy, onGenerate }: Props) {
  const [percentage, setPercentage] = useState<number | null>(DEFAULT_DEPOSIT_PERCENTAGE);
  const [invalid, setInvalid] = useState(false);
  const disabled = !enabled || busy;

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
    onGenerate('deposit', percentage);
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>{t.actionsHeading}</Heading>
      <ButtonRow disableDropdown={true}>
        <Button variant="primary" disabled={disabled} onClick={() => onGenerate('full', null)} testId="generate-full">
          {t.generateFull}
        </Button>
        <Button variant="secondary" disabled={disabled} onClick={() => onGenerate('balance', null)} testId="generate-balance">
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
          readOnly={!enabled}
          error={invalid}
          validationMessage={invalid ? t.percentageInvalid : undefined}
          onChange={onPercentageChange}
          testId="deposit-percentage"
        />
        <Button variant="secondary" disabled={disabled} onClick={onDeposit} testId="generate-deposit">
          {t.generateDeposit(isValidPercentage(percentage) ? formatPercentage(t, percentage) : null)}
        </Button>
      </Flex>
      {!enabled ? (
        <Text variant="microcopy" testId="buttons-disabled-hint">
          {t.buttonsDisabledHint}
        </Text>
      ) : null}
    </Flex>
  );
}
