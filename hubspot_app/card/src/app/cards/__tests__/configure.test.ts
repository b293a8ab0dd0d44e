/// <reference types="node" />
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const script = join(projectRoot, 'scripts/configure.mjs');
let tmp: string | null = null;

function copyProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'qonto-card-'));
  tmp = root;
  mkdirSync(join(root, 'src/app/cards'), { recursive: true });
  for (const file of [
    'app-hsmeta.template.json',
    'workflow-action.template.json',
    'webhooks.template.json',
    'src/app/cards/config.ts',
    'src/app/cards/invoice-card-hsmeta.json',
  ]) {
    cpSync(join(projectRoot, file), join(root, file));
  }
  return root;
}

function run(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['PUBLIC_BASE_URL', 'SUPPORT_EMAIL', 'DOCUMENTATION_URL', 'SUPPORT_URL'].includes(k)),
  );
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...clean, ...env } });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const appMeta = (root: string) => JSON.parse(readFileSync(join(root, 'src/app/app-hsmeta.json'), 'utf8'));
const component = (root: string, path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const configTs = (root: string) => readFileSync(join(root, 'src/app/cards/config.ts'), 'utf8');

afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = null;
});

describe('scripts/configure.mjs (generate)', () => {
  it('generates app-hsmeta.json and API_BASE from PUBLIC_BASE_URL, and can be run again', () => {
    const root = copyProject();
    let r = run(['--root', root, '--base-url', 'https://billing.acme.fr/qonto/', '--support-email', 'aide@acme.fr']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('ready for `hs project upload`');
    let meta = appMeta(root);
    // A proxy's path prefix stays in the redirect URL; fetch is the origin only.
    expect(meta.config.auth.redirectUrls).toEqual(['https://billing.acme.fr/qonto/hubspot/oauth/callback']);
    expect(meta.config.permittedUrls.fetch).toEqual(['https://billing.acme.fr']);
    expect(meta.config.support).toEqual({
      supportEmail: 'aide@acme.fr',
      documentationUrl: 'https://billing.acme.fr/qonto/docs',
      supportUrl: 'https://billing.acme.fr/qonto/support',
    });
    expect(meta.uid).toBe('qonto_connector_app');
    expect(configTs(root)).toContain("export const API_BASE = 'https://billing.acme.fr/qonto';");
    const action = component(root, 'src/app/workflow-actions/create-invoice-hsmeta.json');
    expect(action.type).toBe('workflow-action');
    expect(action.config.actionUrl).toBe('https://billing.acme.fr/qonto/hubspot/workflow-actions/create-invoice');
    expect(action.config.labels.fr.actionName).toBe('Créer une facture Qonto');
    const webhooks = component(root, 'src/app/webhooks/webhooks-hsmeta.json');
    expect(webhooks.config.settings.targetUrl).toBe('https://billing.acme.fr/qonto/hubspot/webhooks');
    expect(webhooks.config.subscriptions.crmObjects[0].propertyName).toBe('dealstage');

    r = run(['--root', root, '--support-url=https://help.acme.fr/qonto'], { PUBLIC_BASE_URL: 'https://qc.acme.io', SUPPORT_EMAIL: 'x@acme.io' });
    expect(r.code, r.err).toBe(0);
    meta = appMeta(root);
    expect(meta.config.permittedUrls.fetch).toEqual(['https://qc.acme.io']);
    expect(meta.config.support.supportUrl).toBe('https://help.acme.fr/qonto');
    expect(configTs(root)).toContain("export const API_BASE = 'https://qc.acme.io';");
    expect(component(root, 'src/app/webhooks/webhooks-hsmeta.json').config.settings.targetUrl).toBe(
      'https://qc.acme.io/hubspot/webhooks',
    );
  });

  it.each([
    [['--base-url', 'http://billing.acme.fr', '--support-email', 'a@acme.fr'], 'must use https'],
    [['--base-url', 'https://localhost:8000', '--support-email', 'a@acme.fr'], 'is localhost'],
    [['--base-url', 'https://127.0.0.1', '--support-email', 'a@acme.fr'], 'loopback or private'],
    [['--base-url', 'https://connector.example.com', '--support-email', 'a@acme.fr'], 'placeholder'],
    [['--base-url', 'https://qc.acme.test', '--support-email', 'a@acme.fr'], '.test'],
    [['--base-url', 'https://billing.acme.fr', '--support-email', 'support@connector.example.com'], 'placeholder'],
    [['--base-url', 'https://billing.acme.fr'], '--support-email'],
    [['--support-email', 'a@acme.fr'], '--base-url'],
  ])('refuses %j', (args, message) => {
    const root = copyProject();
    const r = run(['--root', root, ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(() => appMeta(root)).toThrow(); // nothing written
  });
});

describe('scripts/configure.mjs --check (run by make test: CI fails on a placeholder host)', () => {
  it('passes on the committed project', () => {
    const r = run(['--check', '--root', projectRoot]);
    expect(r.code, r.err).toBe(0);
  });

  it('passes on an unconfigured copy, which cannot be uploaded (no app-hsmeta.json)', () => {
    const r = run(['--check', '--root', copyProject()]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('not configured');
  });

  function configured(): string {
    const root = copyProject();
    expect(run(['--root', root, '--base-url', 'https://billing.acme.fr', '--support-email', 'a@acme.fr']).code).toBe(0);
    return root;
  }

  function edit(root: string, change: (meta: any) => void) {
    const meta = appMeta(root);
    change(meta);
    writeFileSync(join(root, 'src/app/app-hsmeta.json'), JSON.stringify(meta));
  }

  it.each([
    ['an example.com redirect URL', (m: any) => (m.config.auth.redirectUrls = ['https://connector.example.com/hubspot/oauth/callback']), 'placeholder'],
    ['a localhost fetch origin', (m: any) => (m.config.permittedUrls.fetch = ['https://localhost:8000']), 'localhost'],
    ['a plain http fetch origin', (m: any) => (m.config.permittedUrls.fetch.push('http://billing.acme.fr')), 'is not https'],
    ['a private address', (m: any) => (m.config.support.supportUrl = 'https://192.168.1.20/support'), 'private'],
    ['a placeholder support e-mail', (m: any) => (m.config.support.supportEmail = 'support@connector.example.com'), 'placeholder'],
    ['an unresolved template variable', (m: any) => (m.config.auth.redirectUrls = ['${PUBLIC_BASE_URL}/hubspot/oauth/callback']), 'unresolved'],
    ['a redirect URL that is not our callback', (m: any) => (m.config.auth.redirectUrls = ['https://billing.acme.fr/']), 'redirectUrls'],
  ])('fails on %s', (_what, change, message) => {
    const root = configured();
    edit(root, change);
    const r = run(['--check', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('must not be uploaded');
    expect(r.err).toContain(message);
  });

  it('fails when the card would call an origin that is not permitted, or a placeholder', () => {
    const root = configured();
    const ts = join(root, 'src/app/cards/config.ts');
    writeFileSync(ts, configTs(root).replace("'https://billing.acme.fr'", "'https://api.acme.fr'"));
    let r = run(['--check', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('not in permittedUrls.fetch');
    writeFileSync(ts, configTs(root).replace("'https://api.acme.fr'", "'https://connector.example.com'"));
    r = run(['--check', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('placeholder');
  });

  it('checks every -hsmeta.json under src, the card too', () => {
    const root = copyProject();
    const card = join(root, 'src/app/cards/invoice-card-hsmeta.json');
    const meta = JSON.parse(readFileSync(card, 'utf8'));
    meta.config.previewUrl = 'https://connector.example.com/preview';
    writeFileSync(card, JSON.stringify(meta));
    const r = run(['--check', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('invoice-card-hsmeta.json: config.previewUrl');
  });
});
