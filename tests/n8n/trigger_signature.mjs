// Runs the built trigger (dist/) without n8n: its signature check, its filters, its replay memory, and its
// webhook and activation methods with stand-ins for n8n's context. Cases come as JSON on stdin and run in
// order in this one process, so the trigger's in-memory state carries from one case to the next.
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const [dist] = process.argv.slice(2);
const { verifySignature } = require(`${dist}/nodes/AvitogwTrigger/signature.js`);
const { ignoredBecause } = require(`${dist}/nodes/AvitogwTrigger/filters.js`);
const { ReplayMemory } = require(`${dist}/nodes/AvitogwTrigger/replays.js`);
const { AvitogwTrigger } = require(`${dist}/nodes/AvitogwTrigger/AvitogwTrigger.node.js`);

const trigger = new AvitogwTrigger();

// What n8n gives the node's methods, for one request (webhook) or one activation (hooks).
function context(c, warnings) {
  const answer = { status: 200, json: undefined };
  return {
    answer,
    getRequestObject: () => ({ rawBody: Buffer.from(c.body ?? '', 'utf8') }),
    getResponseObject: () => ({
      status(code) { answer.status = code; return this; },
      json(body) { answer.json = body; return this; },
    }),
    getCredentials: async () => ({ signingSecret: c.secret ?? '' }),
    getHeaderData: () => c.headers ?? {},
    getNodeParameter: (name, fallback) => c.options ?? fallback,
    getWorkflow: () => ({ id: c.workflow ?? 'workflow-1' }),
    getNode: () => ({ id: c.node ?? 'node-1' }),
    helpers: { returnJsonArray: (items) => items.map((json) => ({ json })) },
    logger: { warn: (message) => warnings.push(message), info() {}, debug() {}, error() {} },
  };
}

async function webhook(c) {
  const ctx = context(c, []);
  const result = await trigger.webhook.call(ctx);
  if (result.workflowData) return { ran: true, status: 200, items: result.workflowData[0].map((i) => i.json) };
  return { ran: false, status: ctx.answer.status, answer: result.webhookResponse ?? ctx.answer.json };
}

async function activation(c) {
  const warnings = [];
  const ctx = context(c, warnings);
  const hooks = trigger.webhookMethods.default;
  const exists = await hooks.checkExists.call(ctx);
  const created = exists || (await hooks.create.call(ctx));
  const deleted = await hooks.delete.call(ctx);
  return { exists, created, deleted, warnings };
}

function memory(c) {
  const remembered = new ReplayMemory(c.limit);
  return c.steps.map(([key, expiresAt, now]) => remembered.firstTime(key, expiresAt, now));
}

function signature(c) {
  return verifySignature({
    secret: c.secret,
    rawBody: Buffer.from(c.body, 'utf8'),
    nowSeconds: c.now,
    header: (name) => c.headers[name],
  });
}

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const out = [];
  for (const c of JSON.parse(input)) {
    if (c.filter) out.push({ ignored: ignoredBecause(c.message, c.options) ?? null });
    else if (c.webhook) out.push(await webhook(c));
    else if (c.activate) out.push(await activation(c));
    else if (c.memory) out.push(memory(c));
    else if (c.describeOptions) out.push(Object.fromEntries(trigger.description.properties
      .find((p) => p.name === 'options').options.map((o) => [o.name, o.default])));
    else if (c.describe) out.push(trigger.description.properties.filter((p) => p.type === 'notice').map((p) => p.displayName));
    else out.push(signature(c));
  }
  console.log(JSON.stringify(out));
});
