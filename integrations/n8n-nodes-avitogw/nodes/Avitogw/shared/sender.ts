/**
 * Who a send is from (contract §9): the bot (the default) or a person answering through the API.
 *
 * A human's send goes through while the chat is in human hands and counts as a human reply. The
 * field is put in the body only for `human`: the gateway takes `bot` as the default, and a gateway
 * from before §9 refuses a body field it does not know, so a default send stays exactly as it was.
 */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { showFor } from './descriptions';

export function senderField(resource: string, operations: string[]): INodeProperties {
	return {
		displayName: 'Sender',
		name: 'sender',
		type: 'options',
		options: [
			{
				name: 'Bot',
				value: 'bot',
				description: 'An automated send: refused (409) while a human handles the chat',
			},
			{
				name: 'Human',
				value: 'human',
				description:
					'A person answering through n8n (e.g. from a CRM): goes through and keeps the chat in human hands',
			},
		],
		default: 'bot',
		description: 'Who this send is from, as the gateway\'s "sender" body field',
		displayOptions: showFor(resource, operations),
	};
}

/** `{"sender": "human"}` for a human's send, nothing for the bot's (see the module's note). */
export function senderFields(context: IExecuteFunctions, itemIndex: number): IDataObject {
	return context.getNodeParameter('sender', itemIndex, 'bot') === 'human'
		? { sender: 'human' }
		: {};
}
