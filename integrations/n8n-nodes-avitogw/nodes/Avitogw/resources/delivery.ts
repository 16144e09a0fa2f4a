/** Resource "delivery": what the gateway posted (or failed to post) to n8n, and posting one again. */
import type { IDataObject, INodeProperties } from 'n8n-workflow';
import { type Operation, pagingFields, showFor } from '../shared/descriptions';
import { hasMore, paged } from '../shared/paging';
import { gatewayRequest } from '../shared/transport';

export const deliveryProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['delivery'] } },
		options: [
			{
				name: 'List',
				value: 'list',
				action: 'List deliveries',
				description: 'Deliveries to n8n, newest first',
			},
			{
				name: 'Replay',
				value: 'replay',
				action: 'Replay a delivery',
				description: 'Queue a delivery again, e.g. a failed one',
			},
		],
		default: 'list',
	},
	{
		displayName: 'Status',
		name: 'status',
		type: 'options',
		options: [
			{ name: 'Any', value: '' },
			{ name: 'Delivered', value: 'delivered' },
			{ name: 'Delivering', value: 'delivering' },
			{ name: 'Failed', value: 'failed' },
			{ name: 'Pending', value: 'pending' },
		],
		default: '',
		displayOptions: showFor('delivery', ['list']),
	},
	...pagingFields('delivery', ['list'], 500),
	{
		displayName: 'Delivery ID',
		name: 'deliveryId',
		type: 'number',
		required: true,
		default: 0,
		displayOptions: showFor('delivery', ['replay']),
	},
];

export const deliveryOperations: Record<string, Operation> = {
	list: async (context, i) => {
		const status = context.getNodeParameter('status', i, '') as string;
		return paged(
			context,
			i,
			{ pageSize: 500, maxOffset: Number.MAX_SAFE_INTEGER },
			async (limit, offset) => {
				const qs: IDataObject = { limit, offset };
				if (status) qs.status = status;
				const answer = await gatewayRequest(context, i, {
					method: 'GET',
					path: '/api/deliveries',
					qs,
				});
				return { rows: (answer.deliveries as IDataObject[]) ?? [], hasMore: hasMore(answer) };
			},
		);
	},
	replay: async (context, i) =>
		gatewayRequest(context, i, {
			method: 'POST',
			path: `/api/deliveries/${Number(context.getNodeParameter('deliveryId', i))}/replay`,
		}),
};
