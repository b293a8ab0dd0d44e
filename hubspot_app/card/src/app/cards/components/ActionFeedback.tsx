// React in scope also for builds that use the classic JSX transform.
import React from 'react';
import { Alert, Button, Flex, Link, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import type { ApiError } from '../api';
import { kindLabel } from '../i18n';
import type { Messages } from '../i18n';
import type { ActionState } from '../useCard';
import { ProblemList } from './Readiness';

/** The server's own sentence when it sent one, else ours. */
export function describeError(t: Messages, error: ApiError): string {
  if (error.serverMessage) return error.serverMessage;
  return error.status === 0 ? t.networkError : t.unknownError;
}

interface Props {
  action: ActionState;
  t: Messages;
  onRetry: () => void;
  onResend: () => void;
  onReload: () => void;
  onDismiss: () => void;
}

/** What happened after the last click: working, success, failure (with Retry), refusal (with problems). */
export function ActionFeedback({ action, t, onRetry, onResend, onReload, onDismiss }: Props) {
  switch (action.phase) {
    case 'idle':
      return null;
    case 'sending':
    case 'polling':
    case 'retrying':
      return <LoadingSpinner label={t.working} showLabel={true} size="sm" testId="working" />;
    case 'succeeded': {
      const { invoice } = action;
      return (
        <Flex direction="column" gap="xs">
          <Alert title={t.successTitle} variant="success" testId="success-alert">
            {t.successMessage(kindLabel(t, invoice.kind, invoice.percentage))}
          </Alert>
          {invoice.qonto_url ? (
            <Text>
              <Link href={{ url: invoice.qonto_url, external: true }} testId="success-qonto-link">
                {t.openInQonto}
              </Link>
            </Text>
          ) : null}
        </Flex>
      );
    }
    case 'failed': {
      const { invoice, retryError } = action;
      // A 4xx on retry (e.g. 409 not_retryable) means retrying again is pointless.
      const canRetry = !!invoice.error?.retryable && (!retryError || retryError.outcomeUnknown);
      return (
        <Flex direction="column" gap="xs">
          <Alert title={t.failedTitle} variant="danger" testId="failure-alert">
            {invoice.error?.message || t.unknownError}
          </Alert>
          {retryError ? (
            <Alert title={t.retryRefusedTitle} variant="warning" testId="retry-error-alert">
              {describeError(t, retryError)}
            </Alert>
          ) : null}
          {canRetry ? (
            <Button variant="primary" onClick={onRetry} testId="retry-button">
              {t.retry}
            </Button>
          ) : null}
        </Flex>
      );
    }
    case 'timeout':
      return (
        <Flex direction="column" gap="xs">
          <Alert title={t.stillWorkingTitle} variant="info" testId="timeout-alert">
            {t.stillWorkingMessage}
          </Alert>
          <Button variant="secondary" onClick={onReload} testId="timeout-reload">
            {t.reload}
          </Button>
        </Flex>
      );
    case 'refused': {
      const { error } = action;
      const message = describeError(t, error);
      // The server's message is its first problem's: say each sentence once.
      const others = error.problems.filter((problem) => problem.message !== message);
      return (
        <Flex direction="column" gap="xs">
          <Alert title={t.refusedTitle} variant="danger" testId="refused-alert">
            {message}
          </Alert>
          {others.length > 0 ? <ProblemList problems={others} t={t} testId="refused-problems" /> : null}
          {error.problems.filter((p) => p.message === message && p.url).slice(0, 1).map((p) => (
            <Text key="fix-link">
              <Link href={{ url: p.url as string, external: true }} testId="refused-fix-link">
                {(p.field ?? '').startsWith('company') ? t.openCompany : t.openToFix}
              </Link>
            </Text>
          ))}
          <Button variant="transparent" onClick={onDismiss} testId="dismiss">
            {t.dismiss}
          </Button>
        </Flex>
      );
    }
    case 'sendFailed':
      return (
        <Flex direction="column" gap="xs">
          <Alert title={t.sendFailedTitle} variant="danger" testId="send-failed-alert">
            {describeError(t, action.error)}
          </Alert>
          <Button variant="primary" onClick={onResend} testId="resend-button">
            {t.sendAgain}
          </Button>
        </Flex>
      );
    default:
      return null;
  }
}
