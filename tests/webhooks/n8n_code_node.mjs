// Runs the docs/n8n.md Code node body with stand-ins for n8n's $env, $input and helpers.
import { readFileSync } from 'fs';
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const doc = readFileSync(new URL('../../docs/n8n.md', import.meta.url), 'utf8');
const code = doc.split('```javascript\n')[1].split('```')[0];
const [secret, id, ts, body, sig] = process.argv.slice(2);
const raw = Buffer.from(body, 'utf8');
const items = [{ json: { headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } },
                 binary: { data: { data: raw.toString('base64') } } }];
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const fn = new AsyncFunction('require', '$env', '$input', code);
const ctx = { helpers: { getBinaryDataBuffer: async (i, name) => Buffer.from(items[i].binary[name].data, 'base64') } };
try {
  const out = await fn.call(ctx, require, { AVITOGW_WEBHOOK_SECRET: secret }, { all: () => items });
  console.log('OK', JSON.stringify(out));
} catch (e) { console.log('REJECTED', e.message); }
