/** Resource "blacklist": block a user, optionally for one item and with Avito's reason. */
import type { IDataObject, INodeProperties } from 'n8n-workflow';
import { type Operation, showFor } from '../shared/descriptions';
import { gatewayRequest } from '../shared/transport';

export const blacklistProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['blacklist'] } },
		options: [
			{
				name: 'Add',
				value: 'add',
				action: 'Block a user',
				description: "Add a user to the account's blacklist",
			},
		],
		default: 'add',
	},
	{
		displayName: 'User ID',
		name: 'userId',
		type: 'number',
		required: true,
		default: 0,
		description: "The Avito user to block, e.g. the trigger's external_user_id",
		displayOptions: showFor('blacklist', ['add']),
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add field',
		default: {},
		displayOptions: showFor('blacklist', ['add']),
		options: [
			{
				displayName: 'Item ID',
				name: 'itemId',
				type: 'number',
				default: 0,
				description: 'The item the block is about',
			},
			{
				displayName: 'Reason',
				name: 'reasonId',
				type: 'options',
				options: [
					{ name: 'Spam', value: 1 },
					{ name: 'Fraud', value: 2 },
					{ name: 'Insults', value: 3 },
					{ name: 'Other', value: 4 },
				],
				default: 4,
			},
		],
	},
];

export const blacklistOperations: Record<string, Operation> = {
	add: async (context, i) => {
		const body: IDataObject = { user_id: context.getNodeParameter('userId', i) };
		const extra = context.getNodeParameter('additionalFields', i, {}) as IDataObject;
		if (extra.itemId) body.item_id = extra.itemId;
		if (extra.reasonId) body.reason_id = extra.reasonId;
		return gatewayRequest(context, i, { method: 'POST', path: '/api/blacklist', body });
	},
};
