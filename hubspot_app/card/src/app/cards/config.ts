/**
 * Public HTTPS origin of our backend, the only origin the card calls through `hubspot.fetch`.
 *
 * `https://connector.example.com` is a placeholder: `node scripts/configure.mjs --base-url …`
 * (in hubspot_app/card/) rewrites this line, `permittedUrls.fetch` and `redirectUrls` in
 * app-hsmeta.json before `hs project upload`. Keep it a single-quoted string on one line so the
 * script can find it.
 */
export const API_BASE = 'https://connector.example.com';
