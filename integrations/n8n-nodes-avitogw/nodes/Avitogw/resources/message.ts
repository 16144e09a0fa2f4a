/** Resource "message": send text, image or link, delete, list a chat's messages, take every unread one. */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import {
	chatIdField,
	idempotencyOption,
	type Operation,
	pagingFields,
	showFor,
} from '../shared/descriptions';
import { idempotencyKey } from '../shared/idempotency';
import { multipartBody } from '../shared/multipart';
import { hasMore, paged } from '../shared/paging';
import { senderField, senderFields } from '../shared/sender';
import { gatewayRequest } from '../shared/transport';

const SENDS = ['sendText', 'sendImage', 'sendLink'];

export const messageProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['message'] } },
		options: [
			{
				name: 'Delete',
				value: 'delete',
				action: 'Delete a message',
				description: 'Delete an own message (Avito allows it within an hour of sending)',
			},
			{
				name: 'List',
				value: 'list',
				action: 'List messages of a chat',
				description: "List a chat's messages, newest first",
			},
			{
				name: 'Send Image',
				value: 'sendImage',
				action: 'Send an image',
				description: 'Send an image by URL, from binary data, or by an uploaded image ID',
			},
			{
				name: 'Send Link',
				value: 'sendLink',
				action: 'Send a link',
				description: 'Send a text message holding a URL',
			},
			{
				name: 'Send Text',
				value: 'sendText',
				action: 'Send a text message',
				description: 'Send a text message to a chat',
			},
			{
				name: 'Take Unread',
				value: 'unreadAll',
				action: 'Take every unread incoming message',
				description:
					"Every unread incoming message of every unread chat, oldest first, in the trigger's shape",
			},
		],
		default: 'sendText',
	},
	chatIdField('message', ['sendText', 'sendImage', 'sendLink', 'delete', 'list']),
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 3 },
		required: true,
		default: '',
		description: "At most 1000 characters (Avito's limit)",
		displayOptions: showFor('message', ['sendText']),
	},
	{
		displayName: 'Image Source',
		name: 'imageSource',
		type: 'options',
		options: [
			{
				name: 'URL',
				value: 'url',
				description: 'The gateway downloads the image and uploads it to Avito',
			},
			{ name: 'Binary Data', value: 'binary', description: 'An image file from a previous node' },
			{
				name: 'Image ID',
				value: 'imageId',
				description: "An image already uploaded with Avito's uploadImages",
			},
		],
		default: 'url',
		displayOptions: showFor('message', ['sendImage']),
	},
	{
		displayName: 'Image URL',
		name: 'imageUrl',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'https://example.com/photo.jpg',
		description: 'A JPEG, PNG, GIF, BMP or HEIC image of at most 24 MB',
		displayOptions: {
			show: { resource: ['message'], operation: ['sendImage'], imageSource: ['url'] },
		},
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		required: true,
		default: 'data',
		hint: 'The name of the input binary field holding the image',
		displayOptions: {
			show: { resource: ['message'], operation: ['sendImage'], imageSource: ['binary'] },
		},
	},
	{
		displayName: 'Image ID',
		name: 'imageId',
		type: 'string',
		required: true,
		default: '',
		displayOptions: {
			show: { resource: ['message'], operation: ['sendImage'], imageSource: ['imageId'] },
		},
	},
	{
		displayName: 'URL',
		name: 'url',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'https://example.com/offer',
		displayOptions: showFor('message', ['sendLink']),
	},
	{
		displayName: 'Text',
		name: 'linkText',
		type: 'string',
		default: '',
		description: 'Optional text sent before the URL, in the same message',
		displayOptions: showFor('message', ['sendLink']),
	},
	{
		displayName: 'Message ID',
		name: 'messageId',
		type: 'string',
		required: true,
		default: '',
		displayOptions: showFor('message', ['delete']),
	},
	senderField('message', SENDS),
	...pagingFields('message', ['list']),
	{
		displayName: 'Mark Read',
		name: 'markRead',
		type: 'boolean',
		default: true,
		description:
			'Whether to mark the chats read, so the next run does not take the same messages again',
		displayOptions: showFor('message', ['unreadAll']),
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: showFor('message', SENDS),
		options: [idempotencyOption(true)],
	},
];

function sendHeaders(
	context: IExecuteFunctions,
	operation: string,
	itemIndex: number,
): IDataObject {
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	return {
		'Idempotency-Key': idempotencyKey(context, operation, itemIndex, options.idempotencyKey),
	};
}

function chatId(context: IExecuteFunctions, itemIndex: number): string {
	return String(context.getNodeParameter('chatId', itemIndex)).trim();
}

async function sendImage(context: IExecuteFunctions, itemIndex: number): Promise<IDataObject> {
	const headers = sendHeaders(context, 'sendImage', itemIndex);
	const chat = chatId(context, itemIndex);
	const source = context.getNodeParameter('imageSource', itemIndex) as string;
	const path = '/api/messages/send/image';
	if (source === 'binary') {
		const field = context.getNodeParameter('binaryPropertyName', itemIndex) as string;
		const binary = context.helpers.assertBinaryData(itemIndex, field);
		const data = await context.helpers.getBinaryDataBuffer(itemIndex, field);
		const { body, contentType } = multipartBody(
			{ chat_id: chat, ...(senderFields(context, itemIndex) as Record<string, string>) },
			{ name: 'file', fileName: binary.fileName ?? 'image', mimeType: binary.mimeType, data },
		);
		return gatewayRequest(context, itemIndex, {
			method: 'POST',
			path,
			body,
			headers: { ...headers, 'Content-Type': contentType },
		});
	}
	const body: IDataObject = { chat_id: chat, ...senderFields(context, itemIndex) };
	if (source === 'url') body.image_url = context.getNodeParameter('imageUrl', itemIndex);
	else body.image_id = context.getNodeParameter('imageId', itemIndex);
	return gatewayRequest(context, itemIndex, { method: 'POST', path, body, headers });
}

export const messageOperations: Record<string, Operation> = {
	sendText: async (context, i) =>
		gatewayRequest(context, i, {
			method: 'POST',
			path: '/api/messages/send',
			body: {
				chat_id: chatId(context, i),
				text: context.getNodeParameter('text', i) as string,
				...senderFields(context, i),
			},
			headers: sendHeaders(context, 'sendText', i),
		}),
	sendImage,
	sendLink: async (context, i) => {
		const body: IDataObject = {
			chat_id: chatId(context, i),
			url: context.getNodeParameter('url', i),
		};
		const text = context.getNodeParameter('linkText', i, '') as string;
		if (text) body.text = text;
		Object.assign(body, senderFields(context, i));
		return gatewayRequest(context, i, {
			method: 'POST',
			path: '/api/messages/send/link',
			body,
			headers: sendHeaders(context, 'sendLink', i),
		});
	},
	delete: async (context, i) => {
		const messageId = encodeURIComponent(String(context.getNodeParameter('messageId', i)).trim());
		const chat = encodeURIComponent(chatId(context, i));
		return gatewayRequest(context, i, {
			method: 'DELETE',
			path: `/api/chats/${chat}/messages/${messageId}`,
		});
	},
	list: async (context, i) => {
		const path = `/api/chats/${encodeURIComponent(chatId(context, i))}/messages`;
		return paged(context, i, { pageSize: 100, maxOffset: 1000 }, async (limit, offset) => {
			const answer = await gatewayRequest(context, i, {
				method: 'GET',
				path,
				qs: { limit, offset },
			});
			return { rows: (answer.messages as IDataObject[]) ?? [], hasMore: hasMore(answer) };
		});
	},
	unreadAll: async (context, i) => {
		const markRead = context.getNodeParameter('markRead', i) as boolean;
		const answer = await gatewayRequest(context, i, {
			method: 'GET',
			path: '/api/messages/unread/all',
			qs: { mark_read: markRead },
		});
		return (answer.messages as IDataObject[]) ?? [];
	},
};
