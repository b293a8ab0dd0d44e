// React in scope also for builds that use the classic JSX transform.
import React from 'react';
import { Alert, Flex, Link, Text } from '@hubspot/ui-extensions';
import type { Tenant } from '../api';
import type { Messages } from '../i18n';

export const OPERATIONAL_STATUSES: ReadonlySet<string> = new Set(['active', 'grace']);

/** Active: nothing. Grace: a warning, buttons stay enabled. Anything else: what to do, with the settings link. */
export function TenantNotice({ tenant, t }: { tenant: Tenant; t: Messages }) {
  if (tenant.status === 'active') return null;
  const known = tenant.status in t.tenantTitle;
  const key = tenant.status as keyof Messages['tenantTitle'];
  const title = known ? t.tenantTitle[key] : t.tenantUnknownTitle;
  const message = tenant.message || (known ? t.tenantMessage[key] : t.tenantUnknownMessage);
  const operational = OPERATIONAL_STATUSES.has(tenant.status);
  return (
    <Flex direction="column" gap="xs">
      <Alert title={title} variant={operational ? 'warning' : 'danger'} testId="tenant-alert">
        {message}
      </Alert>
      {tenant.settings_url ? (
        <Text>
          <Link href={{ url: tenant.settings_url, external: true }} testId="settings-link">
            {t.openSettings}
          </Link>
        </Text>
      ) : null}
    </Flex>
  );
}
