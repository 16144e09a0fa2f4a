/**
 * Standard Webhooks verification (https://www.standardwebhooks.com), the receiving half of the
 * gateway's avitogw/n8n/signing.py.
 *
 * `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`.
 * The key: a `whsec_` secret is the base64 after the prefix (strictly decoded, as the gateway and every
 * Standard Webhooks library do); any other secret is its UTF-8 bytes. A timestamp more than five minutes
 * from now, either way, is refused, so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'crypto';

export const SECRET_PREFIX = 'whsec_';
export const TOLERANCE_SECONDS = 5 * 60;

export type Verdict = { ok: true } | { ok: false; reason: string };

export type HeaderGetter = (name: string) => string | undefined;

/** The HMAC key a secret stands for, or undefined when a `whsec_` secret is not valid base64. */
export function signingKey(secret: string): Buffer | undefined {
	if (!secret.startsWith(SECRET_PREFIX)) return Buffer.from(secret, 'utf8');
	const encoded = secret.slice(SECRET_PREFIX.length).replace(/=+$/, '');
	if (!/^[A-Za-z0-9+/]*$/.test(encoded) || encoded.length % 4 === 1) return undefined;
	const key = Buffer.from(encoded, 'base64');
	return key.length ? key : undefined;
}

export function verifySignature(options: {
	secret: string;
	header: HeaderGetter;
	rawBody: Buffer;
	nowSeconds: number;
}): Verdict {
	const key = signingKey(options.secret);
	if (!key)
		return {
			ok: false,
			reason: "The credential's signing secret is not usable (whsec_ needs base64 after it).",
		};
	const id = options.header('webhook-id');
	const timestamp = options.header('webhook-timestamp');
	const signatures = options.header('webhook-signature');
	if (!id || !timestamp || !signatures)
		return { ok: false, reason: 'Missing webhook-id, webhook-timestamp or webhook-signature.' };

	const sentAt = /^\d+$/.test(timestamp) ? Number(timestamp) : NaN;
	if (!(Math.abs(options.nowSeconds - sentAt) <= TOLERANCE_SECONDS)) {
		return { ok: false, reason: 'webhook-timestamp is more than five minutes away from now.' };
	}

	const expected = createHmac('sha256', key)
		.update(`${id}.${timestamp}.`)
		.update(options.rawBody)
		.digest();
	const matches = signatures.split(' ').some((entry) => {
		const [version, value] = entry.split(',', 2);
		if (version !== 'v1' || !value) return false;
		const given = Buffer.from(value, 'base64');
		return given.length === expected.length && timingSafeEqual(given, expected);
	});
	return matches
		? { ok: true }
		: { ok: false, reason: 'No webhook-signature matches the signing secret.' };
}
