/// <reference types="node" />
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  cpSync(join(projectRoot, 'src/app/app-hsmeta.json'), join(root, 'src/app/app-hsmeta.json'));
  cpSync(join(projectRoot, 'src/app/cards/config.ts'), join(root, 'src/app/cards/config.ts'));
  return root;
}

function run(...args: string[]) {
  return execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', stdio: 'pipe' });
}

afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = null;
});

describe('scripts/configure.mjs', () => {
  it('rewrites redirectUrls, permittedUrls.fetch and API_BASE, and can be run again', () => {
    const root = copyProject();
    run('--root', root, '--base-url', 'https://billing.acme.fr/');
    let meta = JSON.parse(readFileSync(join(root, 'src/app/app-hsmeta.json'), 'utf8'));
    expect(meta.config.auth.redirectUrls).toEqual(['https://billing.acme.fr/hubspot/oauth/callback']);
    expect(meta.config.permittedUrls.fetch).toEqual(['https://billing.acme.fr']);
    expect(meta.config.support.documentationUrl).toBe('https://billing.acme.fr/docs');
    expect(meta.config.auth.requiredScopes).toContain('tax_rates.read');
    expect(readFileSync(join(root, 'src/app/cards/config.ts'), 'utf8')).toContain("export const API_BASE = 'https://billing.acme.fr';");

    run('--root', root, '--base-url=https://other.example.net');
    meta = JSON.parse(readFileSync(join(root, 'src/app/app-hsmeta.json'), 'utf8'));
    expect(meta.config.permittedUrls.fetch).toEqual(['https://other.example.net']);
    expect(meta.config.support.supportUrl).toBe('https://other.example.net/support');
    expect(readFileSync(join(root, 'src/app/cards/config.ts'), 'utf8')).toContain("export const API_BASE = 'https://other.example.net';");
  });

  it('refuses a non-https or localhost URL', () => {
    const root = copyProject();
    expect(() => run('--root', root, '--base-url', 'http://billing.acme.fr')).toThrow();
    expect(() => run('--root', root, '--base-url', 'https://localhost:8000')).toThrow();
    expect(() => run('--root', root)).toThrow();
  });
});
