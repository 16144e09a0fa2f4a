// Runs the built action node (dist/) without n8n: its execute() and its Account list (loadOptions) with
// stand-ins for n8n's context, against a real HTTP server the test starts. The stand-in's HTTP helper
// sends what n8n's would (URL with the query, the credential's X-API-Key, JSON or the raw bytes), so the
// server sees the exact method, path and body. Cases come as JSON on stdin; one JSON answer per case.
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const [dist] = process.argv.slice(2);
const { Avitogw } = require(`${dist}/nodes/Avitogw/Avitogw.node.js`);

const node = new Avitogw();
const NODE = { id: 'node-1', name: 'Avito (avitogw)', type: 'n8n-nodes-avitogw.avitogw', typeVersion: 1, position: [0, 0], parameters: {} };

async function httpRequest(options) {
  const url = new URL(options.url);
  for (const [name, value] of Object.entries(options.qs ?? {})) url.searchParams.set(name, String(value));
  const headers = { ...(options.headers ?? {}), 'X-API-Key': 'test-key' };
  let body;
  if (Buffer.isBuffer(options.body)) body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  const answer = await fetch(url, { method: options.method, headers, body, signal: AbortSignal.timeout(20000) });
  const text = await answer.text();
  let parsed = text;
  if (options.json) try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = text; }
  if (!options.ignoreHttpStatusErrors && answer.status >= 400) throw new Error(`HTTP ${answer.status}`);
  return options.returnFullResponse ? { statusCode: answer.status, body: parsed, headers: {} } : parsed;
}

function context(c) {
  const items = c.items ?? [{}];
  const parameter = (name, i, fallback) => {
    const value = { ...(c.parameters ?? {}), ...(items[i] ?? {}) }[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new Error(`Could not get parameter "${name}"`);
  };
  return {
    getNodeParameter: parameter,
    getInputData: () => items.map(() => ({ json: {} })),
    getCredentials: async () => ({ baseUrl: c.baseUrl, apiKey: 'test-key', signingSecret: '' }),
    getNode: () => NODE,
    getExecutionId: () => 'exec-1',
    continueOnFail: () => Boolean(c.continueOnFail),
    helpers: {
      httpRequestWithAuthentication: (_credential, options) => httpRequest(options),
      assertBinaryData: () => ({ fileName: 'photo.png', mimeType: 'image/png' }),
      getBinaryDataBuffer: async () => Buffer.from('PNG-bytes'),
    },
  };
}

function failure(error) {
  return { ok: false, error: { type: error.constructor.name, message: error.message,
                               description: error.description ?? null, httpCode: error.httpCode ?? null } };
}

async function run(c) {
  try {
    if (c.loadOptions) return { ok: true, options: await node.methods.loadOptions[c.loadOptions].call(context(c)) };
    const [output] = await node.execute.call(context(c));
    return { ok: true, output: output.map((item) => item.json) };
  } catch (error) {
    return failure(error);
  }
}

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const out = [];
  for (const c of JSON.parse(input)) out.push(await run(c));
  console.log(JSON.stringify(out));
});
