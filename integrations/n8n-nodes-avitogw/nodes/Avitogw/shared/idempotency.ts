/**
 * The Idempotency-Key a send carries unless the user sets one.
 *
 * The same execution, node, operation and item give the same key, so when n8n retries the node
 * ("Retry On Fail") the gateway answers the first result again instead of sending twice. The gateway
 * takes 1..255 printable ASCII characters: the node's id is a UUID, the execution id a number.
 */
import type { IExecuteFunctions } from 'n8n-workflow';

export function defaultIdempotencyKey(
	context: IExecuteFunctions,
	operation: string,
	itemIndex?: number,
): string {
	const parts = ['n8n', context.getExecutionId(), context.getNode().id, operation];
	if (itemIndex !== undefined) parts.push(String(itemIndex));
	return parts.join(':');
}

export function idempotencyKey(
	context: IExecuteFunctions,
	operation: string,
	itemIndex: number,
	given: unknown,
	perItem = true,
): string {
	const key = typeof given === 'string' ? given.trim() : '';
	return key || defaultIdempotencyKey(context, operation, perItem ? itemIndex : undefined);
}
