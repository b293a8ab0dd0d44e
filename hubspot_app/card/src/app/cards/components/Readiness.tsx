// React in scope also for builds that use the classic JSX transform.
import React from 'react';
import { Alert, Flex, Heading, Link, List, StatusTag, Text } from '@hubspot/ui-extensions';
import type { CardData, Problem } from '../api';
import { fieldLabel } from '../i18n';
import type { Messages } from '../i18n';

/** The label of a problem's link: the company's record in HubSpot, or the settings. */
function linkLabel(t: Messages, problem: Problem): string {
  return (problem.field ?? '').startsWith('company') ? t.openCompany : t.openToFix;
}

/** One problem: its sentence, the field to fix in plain words, and where to fix it. */
export function ProblemList({ problems, t, testId }: { problems: Problem[]; t: Messages; testId: string }) {
  return (
    <List variant="unordered" testId={testId}>
      {problems.map((problem, index) => {
        const field = fieldLabel(t, problem.field);
        return (
          <Flex key={`${problem.code}-${problem.field ?? ''}-${index}`} direction="column" gap="flush" testId={`problem-${problem.code}`}>
            <Text>{problem.message || problem.code}</Text>
            {field ? <Text variant="microcopy">{t.fieldToFix(field)}</Text> : null}
            {problem.url ? (
              <Text variant="microcopy">
                <Link href={{ url: problem.url, external: true }} testId={`problem-link-${problem.code}`}>
                  {linkLabel(t, problem)}
                </Link>
              </Text>
            ) : null}
          </Flex>
        );
      })}
    </List>
  );
}

/**
 * One headline for the deal (ready, to fix, fully invoiced), then what to know before invoicing.
 * A fully invoiced deal never reads "ready": the server says so in `status`.
 */
export function Readiness({ data, t }: { data: Pick<CardData, 'readiness' | 'status'>; t: Messages }) {
  const { readiness, status } = data;
  const problems = readiness.problems ?? [];
  const warnings = readiness.warnings ?? [];
  const einvoicing = readiness.einvoicing ?? [];
  let headline: React.ReactNode;
  if (status?.code === 'fully_invoiced') {
    headline = (
      <Alert title={t.fullyInvoicedTitle} variant="info" testId="fully-invoiced">
        {status.message ?? ''}
      </Alert>
    );
  } else if (readiness.ready && problems.length === 0) {
    headline = (
      <Text testId="readiness-ok">
        <StatusTag variant="success">✓</StatusTag> {t.readyLabel}
      </Text>
    );
  } else {
    headline = (
      <Flex direction="column" gap="xs">
        <Text format={{ fontWeight: 'demibold' }}>{t.notReadyIntro}</Text>
        <ProblemList problems={problems} t={t} testId="readiness-problems" />
      </Flex>
    );
  }
  return (
    <Flex direction="column" gap="xs">
      <Heading>{t.readinessHeading}</Heading>
      {headline}
      {einvoicing.length > 0 ? (
        <Flex direction="column" gap="flush" testId="einvoicing-checklist">
          <Text format={{ fontWeight: 'demibold' }}>{t.einvoicingHeading}</Text>
          {einvoicing.map((check) => (
            <Text key={check.code} testId={`einvoicing-check-${check.code}`}>
              <StatusTag variant={check.ok ? 'success' : 'warning'}>{check.ok ? '✓' : '!'}</StatusTag> {check.label}
            </Text>
          ))}
        </Flex>
      ) : null}
      {warnings.length > 0 ? (
        <Alert title={t.warningsTitle} variant="warning" testId="readiness-warnings">
          <ProblemList problems={warnings} t={t} testId="warning-list" />
        </Alert>
      ) : null}
    </Flex>
  );
}
