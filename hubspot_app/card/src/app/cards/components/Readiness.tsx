// React in scope also for builds that use the classic JSX transform.
import React from 'react';
import { Flex, Heading, List, StatusTag, Text } from '@hubspot/ui-extensions';
import type { Problem, Readiness as ReadinessData } from '../api';
import { fieldLabel } from '../i18n';
import type { Messages } from '../i18n';

/** One problem: its sentence, and the field to fix when the server names one. */
export function ProblemList({ problems, t, testId }: { problems: Problem[]; t: Messages; testId: string }) {
  return (
    <List variant="unordered" testId={testId}>
      {problems.map((problem, index) => {
        const field = fieldLabel(t, problem.field);
        return (
          <Flex key={`${problem.code}-${problem.field ?? ''}-${index}`} direction="column" gap="flush" testId={`problem-${problem.code}`}>
            <Text>{problem.message || problem.code}</Text>
            {field ? <Text variant="microcopy">{t.fieldToFix(field)}</Text> : null}
          </Flex>
        );
      })}
    </List>
  );
}

/** Green tick when the deal is ready, otherwise the list of problems to fix. */
export function Readiness({ readiness, t }: { readiness: ReadinessData; t: Messages }) {
  const problems = readiness.problems ?? [];
  return (
    <Flex direction="column" gap="xs">
      <Heading>{t.readinessHeading}</Heading>
      {readiness.ready && problems.length === 0 ? (
        <Text testId="readiness-ok">
          <StatusTag variant="success">✓</StatusTag> {t.readyLabel}
        </Text>
      ) : (
        <Flex direction="column" gap="xs">
          <Text format={{ fontWeight: 'demibold' }}>{t.notReadyIntro}</Text>
          <ProblemList problems={problems} t={t} testId="readiness-problems" />
        </Flex>
      )}
    </Flex>
  );
}
