/**
 * Public HTTPS URL of our backend (PUBLIC_BASE_URL), the only origin the card calls through
 * `hubspot.fetch`.
 *
 * `https://connector.example.com` is the unconfigured placeholder the tests run with:
 * `node scripts/configure.mjs --base-url …` (in hubspot_app/card/) rewrites this line and
 * generates src/app/app-hsmeta.json before `hs project upload`, and `configure.mjs --check`
 * (run by `make test`) refuses a configured project whose API_BASE is still a placeholder or is
 * not in `permittedUrls.fetch`. Keep it a single-quoted string on one line so the script finds it.
 */
export const API_BASE = 'https://connector.example.com';
