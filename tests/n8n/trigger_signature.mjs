// Runs the built trigger's signature check (dist/) on one request given as JSON on stdin.
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const [dist] = process.argv.slice(2);
const { verifySignature } = require(`${dist}/nodes/AvitogwTrigger/signature.js`);
const { ignoredBecause } = require(`${dist}/nodes/AvitogwTrigger/filters.js`);

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  const out = cases.map((c) => c.filter
    ? { ignored: ignoredBecause(c.message, c.options) ?? null }
    : verifySignature({
        secret: c.secret,
        rawBody: Buffer.from(c.body, 'utf8'),
        nowSeconds: c.now,
        header: (name) => c.headers[name],
      }));
  console.log(JSON.stringify(out));
});
