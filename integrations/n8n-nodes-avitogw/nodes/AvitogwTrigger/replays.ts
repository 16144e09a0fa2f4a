/**
 * The trigger's memory of the deliveries it has accepted, so that the same signed request sent again
 * (captured on the way and replayed) starts no second execution.
 *
 * A delivery is remembered by its `webhook-id` and `webhook-timestamp` until that timestamp leaves the
 * signature's tolerance window: after that the signature check itself refuses the request. The
 * timestamp is part of the key because the gateway signs every attempt anew: its own retries and an
 * operator's "Replay" carry the same `webhook-id` with a new timestamp, and are meant to run (the
 * gateway delivers at least once; replies carry an Idempotency-Key). Only a byte-for-byte repeat,
 * which only a replay can be, is dropped. In memory, per n8n process, at most `limit` entries: when
 * full, the oldest goes first.
 */
export const MEMORY_LIMIT = 20000;

export class ReplayMemory {
	private readonly expiries = new Map<string, number>();

	constructor(private readonly limit: number = MEMORY_LIMIT) {}

	/** True the first time `key` is seen (it is then remembered until `expiresAt`), false for a repeat. */
	firstTime(key: string, expiresAt: number, now: number): boolean {
		const known = this.expiries.get(key);
		if (known !== undefined && known >= now) return false;
		if (this.expiries.size >= this.limit) this.forgetExpired(now);
		if (this.expiries.size >= this.limit) {
			const oldest = this.expiries.keys().next().value;
			if (oldest !== undefined) this.expiries.delete(oldest);
		}
		this.expiries.delete(key); // an expired entry goes back to the end of the insertion order
		this.expiries.set(key, expiresAt);
		return true;
	}

	get size(): number {
		return this.expiries.size;
	}

	private forgetExpired(now: number): void {
		for (const [key, expiresAt] of this.expiries) if (expiresAt < now) this.expiries.delete(key);
	}
}
