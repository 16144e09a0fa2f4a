/** The trigger's rules: why a delivered body starts no workflow, or undefined when it does. */
import type { IDataObject } from 'n8n-workflow';

/** The gateway marks every message `"event": "message"`; it signs other bodies too (a bulk job's callback is
 * `"bulk_job.finished"`), which must not run a message workflow. No `event`: a gateway from before it. */
export function notAMessage(body: IDataObject): string | undefined {
	if (body.event === undefined || body.event === 'message') return undefined;
	return `event ${typeof body.event === 'string' ? body.event : JSON.stringify(body.event)}`;
}

/** The trigger's options: chat types, directions, own messages. */
export function ignoredBecause(message: IDataObject, options: IDataObject): string | undefined {
	const meta = (message.meta ?? {}) as IDataObject;
	const direction = String(meta.direction ?? '');
	const chatType = String(meta.chat_type ?? '');
	if (options.ignoreOwn !== false && direction === 'out') return 'own message';
	const directions = (options.directions as string[] | undefined) ?? [];
	if (directions.length && !directions.includes(direction))
		return `direction ${direction || 'unknown'}`;
	const chatTypes = (options.chatTypes as string[] | undefined) ?? [];
	if (chatTypes.length && !chatTypes.includes(chatType))
		return `chat type ${chatType || 'unknown'}`;
	return undefined;
}
