/** Property builders every resource uses: where a field shows, the chat id, paging, the key option. */
import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

export type Operation = (
	context: IExecuteFunctions,
	itemIndex: number,
) => Promise<IDataObject | IDataObject[]>;

/** Avito's kinds of chat, as the gateway's `chat_types` filter and `meta.chat_type` name them. */
export const CHAT_TYPE_OPTIONS: INodePropertyOptions[] = [
	{ name: 'About an Item (U2i)', value: 'u2i' },
	{ name: 'Between Users (U2u)', value: 'u2u' },
	{ name: 'From Avito (A2u)', value: 'a2u' },
];

export function showFor(resource: string, operations: string[]) {
	return { show: { resource: [resource], operation: operations } };
}

export function chatIdField(resource: string, operations: string[]): INodeProperties {
	return {
		displayName: 'Chat ID',
		name: 'chatId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'u2i-y9ykWR1EkNOJJMaE9i9m8w',
		description: "The Avito chat, e.g. the trigger's external_chat_id",
		displayOptions: showFor(resource, operations),
	};
}

/** Return All / Limit (+ Offset when not returning all), as the gateway pages: limit 1..100, offset 0..1000. */
export function pagingFields(
	resource: string,
	operations: string[],
	maxLimit = 100,
): INodeProperties[] {
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
			displayOptions: showFor(resource, operations),
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: maxLimit },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { resource: [resource], operation: operations, returnAll: [false] } },
		},
		{
			displayName: 'Offset',
			name: 'offset',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description: 'How many results to skip',
			displayOptions: { show: { resource: [resource], operation: operations, returnAll: [false] } },
		},
	];
}

export function idempotencyOption(perItem: boolean): INodeProperties {
	return {
		displayName: 'Idempotency Key',
		name: 'idempotencyKey',
		type: 'string',
		default: '',
		description: perItem
			? 'Sent as the Idempotency-Key header: the gateway answers a repeated key with the first result and does not send again. Empty: derived from the execution, this node and the item, so a retried node never sends twice. For replies to the trigger, an expression such as reply-{{ $json.event_id }} also covers the gateway delivering the same message again.'
			: 'Sent as the Idempotency-Key header of the one bulk request. Empty: derived from the execution and this node.',
	};
}
