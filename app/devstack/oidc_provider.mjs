// A local OpenID provider for `edgecart dev` and the tests: the certified `oidc-provider`
// package with one confidential client, PKCE required, and an in-memory account store.
//
//   node app/devstack/oidc_provider.mjs --port 9000 --client-id shop --client-secret s3cret \
//        --redirect-uri http://127.0.0.1:8000/account/oidc/demo/callback
//
// Its own sign-in page takes any e-mail address (no password): the person gets a stable `sub`
// derived from that address, and the claims {sub, email, email_verified, name}. A checkbox
// lets a tester say the address is *not* verified, to try the refusal path. The pages load
// nothing from elsewhere, so they work offline and in headless Chromium.

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: options } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
  },
});
for (const required of ['port', 'client-id', 'client-secret', 'redirect-uri']) {
  if (!options[required]) {
    console.error(`oidc_provider: --${required} is required`);
    process.exit(2);
  }
}

const issuer = `http://${options.host}:${options.port}`;
const accounts = new Map(); // sub -> { email, name, emailVerified }

function subjectFor(email) {
  return `demo-${createHash('sha256').update(email).digest('hex').slice(0, 24)}`;
}

function nameFrom(email) {
  const local = email.split('@')[0].replace(/[._-]+/g, ' ').trim();
  return local.replace(/\b\w/g, (letter) => letter.toUpperCase()) || email;
}

// A fresh signing key per run: nothing signed by an earlier run stays valid.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: options['client-id'],
      client_secret: options['client-secret'],
      redirect_uris: options['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'email', 'profile'],
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [signingKey] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: account.emailVerified, name: account.name };
      },
    };
  },
});

// --- interaction pages --------------------------------------------------------------------

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · Demo ID</title></head>
<body><main><p>Demo ID: a local OpenID provider for development and tests.</p>
<h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

function loginPage(uid, clientId, error = '') {
  return page('Sign in', `
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<p>${escapeHtml(clientId)} would like you to sign in. Any e-mail address works here.</p>
<form method="post" action="/interaction/${uid}/login">
  <p><label for="email">E-mail address</label><br>
     <input id="email" name="email" type="email" autocomplete="email" required></p>
  <p><label for="name">Name (optional)</label><br>
     <input id="name" name="name" type="text" autocomplete="name"></p>
  <p><input id="verified" name="email_verified" type="checkbox" value="yes" checked>
     <label for="verified">This e-mail address is verified</label></p>
  <p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
}

function consentPage(uid, clientId, scopes) {
  const asked = scopes.filter((scope) => scope !== 'openid');
  return page('Allow access', `
<p>${escapeHtml(clientId)} asks to see:</p>
<ul>${asked.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('') || '<li>who you are</li>'}</ul>
<form method="post" action="/interaction/${uid}/consent"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 10_000) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function showInteraction(req, res) {
  const { uid, prompt, params } = await provider.interactionDetails(req, res);
  if (prompt.name === 'login') return send(res, 200, loginPage(uid, params.client_id));
  const scopes = String(params.scope || '').split(' ').filter(Boolean);
  return send(res, 200, consentPage(uid, params.client_id, scopes));
}

async function submitLogin(req, res) {
  const { uid, prompt, params } = await provider.interactionDetails(req, res);
  if (prompt.name !== 'login') return send(res, 400, page('Out of step', '<p>Start again from the shop.</p>'));
  const form = await readForm(req);
  const email = (form.get('email') || '').trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    return send(res, 422, loginPage(uid, params.client_id, 'Enter an e-mail address, like ada@example.com.'));
  }
  const sub = subjectFor(email);
  accounts.set(sub, {
    email,
    name: (form.get('name') || '').trim() || nameFrom(email),
    emailVerified: form.get('email_verified') === 'yes',
  });
  return provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
}

async function submitConsent(req, res) {
  const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
  if (prompt.name !== 'consent') return send(res, 400, page('Out of step', '<p>Start again from the shop.</p>'));
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims } = prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  const result = { consent: { grantId: await grant.save() } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

async function abort(req, res) {
  const result = { error: 'access_denied', error_description: 'The person cancelled the sign-in.' };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const interactionRoutes = { 'GET ': showInteraction, 'POST /login': submitLogin, 'POST /consent': submitConsent, 'POST /abort': abort };
const providerCallback = provider.callback();

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  const match = pathname.match(/^\/interaction\/([\w-]+)(\/login|\/consent|\/abort)?$/);
  if (!match) return providerCallback(req, res);
  const handler = interactionRoutes[`${req.method} ${match[2] || ''}`];
  if (!handler) return send(res, 405, page('Not allowed', ''));
  try {
    await handler(req, res);
  } catch (error) {
    // Typically an expired or unknown interaction (its cookie is gone): say so calmly.
    console.error(`oidc_provider: ${req.method} ${pathname}: ${error.message}`);
    if (!res.headersSent) send(res, 400, page('This sign-in has expired', '<p>Go back to the shop and start again.</p>'));
  }
});

server.listen(Number(options.port), options.host, () => {
  console.log(`oidc_provider: ${issuer} is ready (client ${options['client-id']})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
