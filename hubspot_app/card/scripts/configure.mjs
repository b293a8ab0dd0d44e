#!/usr/bin/env node
/**
 * Points the HubSpot project at our backend before `hs project upload`.
 *
 *   node scripts/configure.mjs --base-url https://connector.example.fr
 *
 * Rewrites, from the PUBLIC_BASE_URL given:
 *   - src/app/app-hsmeta.json  config.auth.redirectUrls  → [<base>/hubspot/oauth/callback]
 *                              config.permittedUrls.fetch → [<origin of base>]
 *                              config.support.*Url on the previous origin → same path on the new one
 *   - src/app/cards/config.ts  API_BASE                   → <base>
 *
 * Safe to run again with another URL. Options: --root <project dir> (default: this script's
 * parent), --dry-run (print, write nothing).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CALLBACK_PATH = '/hubspot/oauth/callback';
const API_BASE_LINE = /^export const API_BASE = '([^']*)';$/m;

function usage(message) {
  if (message) console.error(`configure: ${message}`);
  console.error('usage: node scripts/configure.mjs --base-url https://your-domain [--root DIR] [--dry-run]');
  process.exit(2);
}

function parseArgs(argv) {
  const args = { root: resolve(dirname(fileURLToPath(import.meta.url)), '..'), dryRun: false, baseUrl: null };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, null];
    const value = () => inline ?? argv[++i] ?? usage(`${name} needs a value`);
    if (name === '--base-url') args.baseUrl = value();
    else if (name === '--root') args.root = resolve(value());
    else if (name === '--dry-run') args.dryRun = true;
    else if (name === '--help' || name === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  if (!args.baseUrl) usage('--base-url is required');
  return args;
}

/** https only (hubspot.fetch refuses anything else), no query or fragment; trailing slashes dropped. */
export function normaliseBaseUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    usage(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'https:') usage(`the base URL must use https (got ${url.protocol})`);
  if (url.search || url.hash) usage('the base URL must not carry a query string or fragment');
  if (url.username || url.password) usage('the base URL must not carry credentials');
  if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) usage('HubSpot cannot call localhost; use a public HTTPS URL');
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  return { base, origin: url.origin };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const { base, origin } = normaliseBaseUrl(args.baseUrl);

  const appMetaPath = join(args.root, 'src/app/app-hsmeta.json');
  const configTsPath = join(args.root, 'src/app/cards/config.ts');

  const appMeta = JSON.parse(readFileSync(appMetaPath, 'utf8'));
  const config = appMeta.config ?? usage(`${appMetaPath} has no "config"`);
  const previousOrigins = new Set((config.permittedUrls?.fetch ?? []).map((u) => new URL(u).origin));

  config.auth = { ...config.auth, redirectUrls: [`${base}${CALLBACK_PATH}`] };
  config.permittedUrls = { iframe: [], img: [], ...config.permittedUrls, fetch: [origin] };
  if (config.support) {
    for (const key of ['documentationUrl', 'supportUrl']) {
      const current = config.support[key];
      if (typeof current !== 'string') continue;
      const url = new URL(current);
      if (previousOrigins.has(url.origin)) config.support[key] = `${origin}${url.pathname}${url.search}`;
    }
  }
  const appMetaText = `${JSON.stringify(appMeta, null, 2)}\n`;

  const configTs = readFileSync(configTsPath, 'utf8');
  if (!API_BASE_LINE.test(configTs)) usage(`${configTsPath} has no line "export const API_BASE = '…';"`);
  const configTsText = configTs.replace(API_BASE_LINE, `export const API_BASE = '${base}';`);

  if (args.dryRun) {
    console.log(appMetaText);
    console.log(configTsText.match(API_BASE_LINE)[0]);
    return;
  }
  writeFileSync(appMetaPath, appMetaText);
  writeFileSync(configTsPath, configTsText);
  console.log(`configure: redirect URL ${base}${CALLBACK_PATH}`);
  console.log(`configure: permitted fetch origin ${origin}`);
  console.log(`configure: card API base ${base}`);
}

main();
