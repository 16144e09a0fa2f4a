/** Resource "chat": one chat, the chat list, mark read, the unread count, every chat about an item. */
import type { IDataObject, INodeProperties } from 'n8n-workflow';
import {
	CHAT_TYPE_OPTIONS,
	chatIdField,
	type Operation,
	pagingFields,
	showFor,
} from '../shared/descriptions';
import { hasMore, paged } from '../shared/paging';
import { gatewayRequest } from '../shared/transport';

export const chatProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['chat'] } },
		options: [
			{
				name: 'Count Unread',
				value: 'unreadCount',
				action: 'Count unread chats',
				description: 'How many u2i and u2u chats are unread',
			},
			{ name: 'Get', value: 'get', action: 'Get a chat', description: 'Get one chat' },
			{
				name: 'List',
				value: 'list',
				action: 'List chats',
				description: 'List chats, newest first, with filters',
			},
			{
				name: 'Mark Read',
				value: 'markRead',
				action: 'Mark a chat read',
				description: 'Mark every message of a chat read',
			},
			{
				name: 'Search by Item',
				value: 'searchByItem',
				action: 'Find the chats about an item',
				description: 'Every chat about one Avito item (listing)',
			},
		],
		default: 'list',
	},
	chatIdField('chat', ['get', 'markRead']),
	...pagingFields('chat', ['list']),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add filter',
		default: {},
		displayOptions: showFor('chat', ['list']),
		options: [
			{
				displayName: 'Chat Types',
				name: 'chatTypes',
				type: 'multiOptions',
				options: CHAT_TYPE_OPTIONS,
				default: ['u2i', 'u2u'],
			},
			{
				displayName: 'Item IDs',
				name: 'itemIds',
				type: 'string',
				default: '',
				placeholder: '1768287444, 1768287445',
				description: 'Only chats about these items (comma-separated Avito item IDs)',
			},
			{
				displayName: 'Unread Only',
				name: 'unreadOnly',
				type: 'boolean',
				default: false,
				description: 'Whether to return only chats with unread messages',
			},
		],
	},
	{
		displayName: 'Item ID',
		name: 'itemId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '1768287444',
		description: 'The Avito item (listing) ID',
		displayOptions: showFor('chat', ['searchByItem']),
	},
];

function chatPath(id: unknown): string {
	return `/api/chats/${encodeURIComponent(String(id).trim())}`;
}

function listQuery(filters: IDataObject): IDataObject {
	const qs: IDataObject = {};
	if (filters.unreadOnly) qs.unread_only = true;
	const items = String(filters.itemIds ?? '').replace(/\s+/g, '');
	if (items) qs.item_ids = items;
	const types = filters.chatTypes as string[] | undefined;
	if (types?.length) qs.chat_types = types.join(',');
	return qs;
}

export const chatOperations: Record<string, Operation> = {
	get: async (context, i) =>
		gatewayRequest(context, i, {
			method: 'GET',
			path: chatPath(context.getNodeParameter('chatId', i)),
		}),
	list: async (context, i) => {
		const qs = listQuery(context.getNodeParameter('filters', i, {}) as IDataObject);
		return paged(context, i, { pageSize: 100, maxOffset: 1000 }, async (limit, offset) => {
			const answer = await gatewayRequest(context, i, {
				method: 'GET',
				path: '/api/chats',
				qs: { ...qs, limit, offset },
			});
			return { rows: (answer.chats as IDataObject[]) ?? [], hasMore: hasMore(answer) };
		});
	},
	markRead: async (context, i) =>
		gatewayRequest(context, i, {
			method: 'POST',
			path: `${chatPath(context.getNodeParameter('chatId', i))}/read`,
		}),
	unreadCount: async (context, i) =>
		gatewayRequest(context, i, { method: 'GET', path: '/api/chats/unread/count' }),
	searchByItem: async (context, i) => {
		const itemId = String(context.getNodeParameter('itemId', i)).trim();
		const answer = await gatewayRequest(context, i, {
			method: 'GET',
			path: '/api/chats/search',
			qs: { item_id: itemId },
		});
		return (answer.chats as IDataObject[]) ?? [];
	},
};
