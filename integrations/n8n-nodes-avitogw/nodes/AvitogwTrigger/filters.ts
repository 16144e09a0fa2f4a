/** The trigger's options as a rule: why a delivered message starts no workflow, or undefined when it does. */
import type { IDataObject } from 'n8n-workflow';

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
