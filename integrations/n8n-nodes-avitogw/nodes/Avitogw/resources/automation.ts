/**
 * Resource "automation": whether the bot or a human handles a chat (contract §9), read and set.
 *
 * While a chat is in human hands the gateway refuses the bot's sends (409 chat_in_human_hands) and the
 * trigger skips its messages. Set "human" for some minutes, or without minutes until set back to "bot".
 */
import type { IDataObject, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { chatIdField, type Operation, showFor } from '../shared/descriptions';
import { gatewayRequest } from '../shared/transport';

/** The gateway's ceiling for `minutes`: 30 days. */
export const MAX_MINUTES = 43200;

export const automationProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['automation'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				action: 'Get the automation state of a chat',
				description: 'Whether the bot or a human handles the chat, and until when',
			},
			{
				name: 'Set',
				value: 'set',
				action: 'Set the automation state of a chat',
				description: 'Hand the chat to a human, or back to the bot',
			},
		],
		default: 'get',
	},
	chatIdField('automation', ['get', 'set']),
	{
		displayName: 'State',
		name: 'state',
		type: 'options',
		options: [
			{ name: 'Bot', value: 'bot', description: 'The bot answers again' },
			{
				name: 'Human',
				value: 'human',
				description: "A person handles the chat: the bot's sends are refused",
			},
		],
		default: 'human',
		displayOptions: showFor('automation', ['set']),
	},
	{
		displayName: 'Minutes',
		name: 'minutes',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: MAX_MINUTES },
		default: 0,
		description: `How long the chat stays with a human (at most ${MAX_MINUTES}, 30 days). 0: until it is set back to Bot.`,
		displayOptions: { show: { resource: ['automation'], operation: ['set'], state: ['human'] } },
	},
];

function automationPath(chatId: unknown): string {
	return `/api/chats/${encodeURIComponent(String(chatId).trim())}/automation`;
}

export const automationOperations: Record<string, Operation> = {
	get: async (context, i) =>
		gatewayRequest(context, i, {
			method: 'GET',
			path: automationPath(context.getNodeParameter('chatId', i)),
		}),
	set: async (context, i) => {
		const state = context.getNodeParameter('state', i) as string;
		const body: IDataObject = { state };
		if (state === 'human') {
			const minutes = Number(context.getNodeParameter('minutes', i, 0));
			if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_MINUTES) {
				throw new NodeOperationError(
					context.getNode(),
					`Minutes must be a whole number from 0 to ${MAX_MINUTES}`,
					{
						itemIndex: i,
						description: '0 keeps the chat with a human until it is set back to Bot.',
					},
				);
			}
			if (minutes > 0) body.minutes = minutes;
		}
		return gatewayRequest(context, i, {
			method: 'PUT',
			path: automationPath(context.getNodeParameter('chatId', i)),
			body,
		});
	},
};
