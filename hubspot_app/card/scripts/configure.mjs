#!/usr/bin/env node
/**
 * Generates the HubSpot project files that depend on the deployment, and checks them before
 * `hs project upload`.
 *
 *   node scripts/configure.mjs --base-url https://connector.your-domain.fr --support-email support@your-domain.fr
 *   node scripts/configure.mjs --check
 *
 * Generate (defaults from the environment: PUBLIC_BASE_URL, SUPPORT_EMAIL, DOCUMENTATION_URL,
 * SUPPORT_URL):
 *   - src/app/app-hsmeta.json (git-ignored) from app-hsmeta.template.json, with
 *       ${PUBLIC_BASE_URL}  the base URL (a proxy's path prefix kept), e.g. in redirectUrls
 *       ${PUBLIC_ORIGIN}    its origin, for permittedUrls.fetch
 *       ${SUPPORT_EMAIL}, ${DOCUMENTATION_URL}, ${SUPPORT_URL}
 *   - src/app/cards/config.ts: the line `export const API_BASE = '…';` → the base URL
 *   - src/app/workflow-actions/create-invoice-hsmeta.json (git-ignored) from workflow-action.template.json
 *       (the "Créer une facture Qonto" action: actionUrl ${PUBLIC_BASE_URL}/hubspot/workflow-actions/create-invoice)
 *   - src/app/webhooks/webhooks-hsmeta.json (git-ignored) from webhooks.template.json
 *       (the dealstage subscription: targetUrl ${PUBLIC_BASE_URL}/hubspot/webhooks)
 *   then runs the check below. Safe to run again with another URL; --dry-run prints, writes nothing.
 *
 * Check (--check; `make test` runs it, so CI fails the same way): every *-hsmeta.json under src/
 * (what `hs project upload` sends) must carry only https URLs on public hosts: no placeholder or
 * documentation domain (example.com/.net/.org, *.example, *.invalid, *.test, *.local),
 * no localhost or private address, no unresolved ${…}. When src/app/app-hsmeta.json exists, the
 * card's API_BASE must also be one of its permittedUrls.fetch origins and not a placeholder.
 * Without src/app/app-hsmeta.json the project is not configured and cannot be uploaded (HubSpot
 * requires the app's config file); the check says so and passes. Option: --root <project dir>.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CALLBACK_PATH = '/hubspot/oauth/callback';
const API_BASE_LINE = /^export const API_BASE = '([^']*)';$/m;
const TEMPLATE = 'app-hsmeta.template.json';
const APP_META = 'src/app/app-hsmeta.json';
const CONFIG_TS = 'src/app/cards/config.ts';
// The other components whose URLs are our backend's: (template, generated file under src/).
const COMPONENT_TEMPLATES = [
  ['workflow-action.template.json', 'src/app/workflow-actions/create-invoice-hsmeta.json'],
  ['webhooks.template.json', 'src/app/webhooks/webhooks-hsmeta.json'],
];

class UsageError extends Error {}

function fail(message) {
  throw new UsageError(message);
}

// --- what a host HubSpot may be pointed at looks like --------------------------------------------
const PLACEHOLDER_DOMAINS = ['example.com', 'example.net', 'example.org']; // RFC 2606 / 6761
const PLACEHOLDER_TLDS = ['example', 'invalid', 'test', 'localhost', 'local', 'internal'];

/** Why `hostname` cannot be a production host HubSpot calls (null: it can). */
export function badHostReason(hostname) {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (!host) return 'has no host';
  if (host === 'localhost') return 'is localhost';
  const tld = host.split('.').pop();
  if (PLACEHOLDER_TLDS.includes(tld)) return `uses the reserved top-level domain .${tld}`;
  if (PLACEHOLDER_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`))) return 'is a placeholder (example) domain';
  if (/^[0-9.]+$/.test(host)) {
    const [a, b] = host.split('.').map(Number);
    if (a === 127 || a === 10 || a === 0 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31) || (a === 169 && b === 254)) {
      return 'is a loopback or private address';
    }
  }
  if (host.includes(':') && (host === '::1' || host === '::' || /^f[cd]/.test(host) || host.startsWith('fe80'))) {
    return 'is a loopback or private address';
  }
  return null;
}

/** https only (hubspot.fetch and OAuth redirects need it), a public host, no query/fragment/user. */
export function normaliseBaseUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'https:') fail(`the base URL must use https (got ${url.protocol})`);
  if (url.search || url.hash) fail('the base URL must not carry a query string or fragment');
  if (url.username || url.password) fail('the base URL must not carry credentials');
  const why = badHostReason(url.hostname);
  if (why) fail(`the base URL's host ${url.hostname} ${why}: HubSpot must reach the real public host`);
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  return { base, origin: url.origin };
}

// --- check ---------------------------------------------------------------------------------------
function* strings(value, path = '') {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, path ? `${path}.${k}` : k);
}

function hsmetaFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...hsmetaFiles(full));
    else if (entry.name.endsWith('-hsmeta.json')) found.push(full);
  }
  return found.sort();
}

/** Problems in one parsed *-hsmeta.json: each string that is a URL or an e-mail address. */
export function hsmetaProblems(meta) {
  const problems = [];
  for (const [path, value] of strings(meta)) {
    if (value.includes('${')) {
      problems.push(`${path}: unresolved variable in ${JSON.stringify(value)} (run configure first)`);
      continue;
    }
    let host = null;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      let url;
      try {
        url = new URL(value);
      } catch {
        problems.push(`${path}: not a valid URL ${JSON.stringify(value)}`);
        continue;
      }
      if (url.protocol !== 'https:') problems.push(`${path}: ${value} is not https`);
      host = url.hostname;
    } else if (/^[^@\s]+@[^@\s]+$/.test(value)) {
      host = value.split('@')[1];
    }
    const why = host === null ? null : badHostReason(host);
    if (why) problems.push(`${path}: ${value} — host ${host} ${why}`);
  }
  return problems;
}

/** Everything that would make `hs project upload` send a project that cannot work. */
export function checkProject(root) {
  const problems = [];
  for (const file of hsmetaFiles(join(root, 'src'))) {
    const rel = relative(root, file);
    let meta;
    try {
      meta = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      problems.push(`${rel}: not valid JSON (${error.message})`);
      continue;
    }
    problems.push(...hsmetaProblems(meta).map((p) => `${rel}: ${p}`));
  }
  const appMetaPath = join(root, APP_META);
  if (!existsSync(appMetaPath)) return { configured: false, problems };
  let appMeta = {};
  try {
    appMeta = JSON.parse(readFileSync(appMetaPath, 'utf8'));
  } catch {
    return { configured: true, problems }; // already reported above
  }
  const fetchOrigins = appMeta.config?.permittedUrls?.fetch ?? [];
  const redirects = appMeta.config?.auth?.redirectUrls ?? [];
  if (!redirects.length || !redirects.every((u) => u.endsWith(CALLBACK_PATH))) {
    problems.push(`${APP_META}: auth.redirectUrls must be [<PUBLIC_BASE_URL>${CALLBACK_PATH}] (got ${JSON.stringify(redirects)})`);
  }
  const configTs = readFileSync(join(root, CONFIG_TS), 'utf8');
  const apiBase = configTs.match(API_BASE_LINE)?.[1];
  if (!apiBase) {
    problems.push(`${CONFIG_TS}: no line "export const API_BASE = '…';"`);
  } else {
    let origin = null;
    try {
      origin = new URL(apiBase).origin;
      const why = badHostReason(new URL(apiBase).hostname);
      if (why) problems.push(`${CONFIG_TS}: API_BASE ${apiBase} — host ${why} (run configure)`);
    } catch {
      problems.push(`${CONFIG_TS}: API_BASE ${apiBase} is not a URL`);
    }
    if (origin && !fetchOrigins.includes(origin)) {
      problems.push(`${CONFIG_TS}: API_BASE ${apiBase} is not in permittedUrls.fetch ${JSON.stringify(fetchOrigins)}: hubspot.fetch would be blocked`);
    }
  }
  return { configured: true, problems };
}

// --- generate ------------------------------------------------------------------------------------
export function render(templateText, values) {
  const missing = new Set();
  const text = templateText.replace(/\$\{([A-Z_]+)\}/g, (whole, name) => {
    if (!(name in values)) {
      missing.add(name);
      return whole;
    }
    return JSON.stringify(values[name]).slice(1, -1); // JSON-escaped, inside the template's quotes
  });
  if (missing.size) fail(`${TEMPLATE} uses unknown variables: ${[...missing].join(', ')}`);
  return text;
}

function supportValue(raw, what) {
  if (!raw) return null;
  if (what === 'email') {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(raw)) fail(`not an e-mail address: ${raw}`);
    const why = badHostReason(raw.split('@')[1]);
    if (why) fail(`the support e-mail's domain ${why}`);
    return raw;
  }
  return normaliseBaseUrl(raw).base;
}

function parseArgs(argv, env) {
  const args = {
    root: resolve(dirname(fileURLToPath(import.meta.url)), '..'),
    dryRun: false,
    check: false,
    baseUrl: env.PUBLIC_BASE_URL || null,
    supportEmail: env.SUPPORT_EMAIL || null,
    documentationUrl: env.DOCUMENTATION_URL || null,
    supportUrl: env.SUPPORT_URL || null,
  };
  const options = {
    '--base-url': 'baseUrl',
    '--support-email': 'supportEmail',
    '--documentation-url': 'documentationUrl',
    '--support-url': 'supportUrl',
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, null];
    const value = () => inline ?? argv[++i] ?? fail(`${name} needs a value`);
    if (name in options) args[options[name]] = value();
    else if (name === '--root') args.root = resolve(value());
    else if (name === '--dry-run') args.dryRun = true;
    else if (name === '--check') args.check = true;
    else if (name === '--help' || name === '-h') fail('help');
    else fail(`unknown argument ${arg}`);
  }
  return args;
}

function generate(args) {
  if (!args.baseUrl) fail('--base-url (or PUBLIC_BASE_URL) is required: the https URL of the backend');
  if (!args.supportEmail) fail('--support-email (or SUPPORT_EMAIL) is required: the Marketplace listing shows it');
  const { base, origin } = normaliseBaseUrl(args.baseUrl);
  const values = {
    PUBLIC_BASE_URL: base,
    PUBLIC_ORIGIN: origin,
    SUPPORT_EMAIL: supportValue(args.supportEmail, 'email'),
    DOCUMENTATION_URL: supportValue(args.documentationUrl, 'url') ?? `${base}/docs`,
    SUPPORT_URL: supportValue(args.supportUrl, 'url') ?? `${base}/support`,
  };
  const appMetaText = render(readFileSync(join(args.root, TEMPLATE), 'utf8'), values);
  JSON.parse(appMetaText); // the template must stay valid JSON once filled
  const configTsPath = join(args.root, CONFIG_TS);
  const configTs = readFileSync(configTsPath, 'utf8');
  if (!API_BASE_LINE.test(configTs)) fail(`${configTsPath} has no line "export const API_BASE = '…';"`);
  const configTsText = configTs.replace(API_BASE_LINE, `export const API_BASE = '${base}';`);
  const components = COMPONENT_TEMPLATES.filter(([template]) => existsSync(join(args.root, template))).map(
    ([template, output]) => {
      const text = render(readFileSync(join(args.root, template), 'utf8'), values);
      JSON.parse(text);
      return { output, text };
    },
  );
  if (args.dryRun) {
    console.log(appMetaText);
    console.log(configTsText.match(API_BASE_LINE)[0]);
    for (const { output, text } of components) console.log(`${output}:\n${text}`);
    return;
  }
  writeFileSync(join(args.root, APP_META), appMetaText);
  writeFileSync(configTsPath, configTsText);
  for (const { output, text } of components) {
    mkdirSync(dirname(join(args.root, output)), { recursive: true });
    writeFileSync(join(args.root, output), text);
    console.log(`configure: ${output}`);
  }
  console.log(`configure: redirect URL ${base}${CALLBACK_PATH}`);
  console.log(`configure: permitted fetch origin ${origin}`);
  console.log(`configure: card API base ${base}`);
}

function check(root) {
  const { configured, problems } = checkProject(root);
  if (problems.length) {
    console.error('configure --check: this project must not be uploaded to HubSpot:');
    for (const p of problems) console.error(`  - ${p}`);
    console.error('Run: node scripts/configure.mjs --base-url https://<PUBLIC_BASE_URL> --support-email <address>');
    return 1;
  }
  console.log(
    configured
      ? 'configure --check: OK, ready for `hs project upload`'
      : `configure --check: OK (not configured: no ${APP_META}, so nothing can be uploaded yet)`,
  );
  return 0;
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), process.env);
    if (args.check) process.exit(check(args.root));
    generate(args);
    if (!args.dryRun) process.exit(check(args.root));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message !== 'help') console.error(`configure: ${error.message}`);
    console.error(
      'usage: node scripts/configure.mjs --base-url https://your-domain --support-email you@your-domain\n' +
        '         [--documentation-url URL] [--support-url URL] [--root DIR] [--dry-run]\n' +
        '       node scripts/configure.mjs --check [--root DIR]',
    );
    process.exit(2);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
