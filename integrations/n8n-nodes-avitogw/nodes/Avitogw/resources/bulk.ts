/**
 * Resource "bulk": one background job from all incoming items (one message per item), its progress, cancel.
 *
 * Submit can wait for the job to end and then fail when items failed, so a workflow never reports
 * success for a send that reached nobody. The job goes to the first item's Account (one job, one account).
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError, sleep } from 'n8n-workflow';
import { chatIdField, idempotencyOption, type Operation, showFor } from '../shared/descriptions';
import { asNodeError } from '../shared/errors';
import { idempotencyKey } from '../shared/idempotency';
import { senderField, senderFields } from '../shared/sender';
import { gatewayRequest } from '../shared/transport';

const ENDED = ['completed', 'cancelled'];

function whenKind(kinds: string[]) {
	return { show: { resource: ['bulk'], operation: ['submit'], messageKind: kinds } };
}

export const bulkProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['bulk'] } },
		options: [
			{
				name: 'Cancel',
				value: 'cancel',
				action: 'Cancel a bulk job',
				description: 'Cancel the items of a job not sent yet',
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get a bulk job',
				description: "A job's progress and every item's result",
			},
			{
				name: 'Submit',
				value: 'submit',
				action: 'Send one message per item as a bulk job',
				description: 'Queue one message per incoming item as one background job',
			},
		],
		default: 'submit',
	},
	{
		displayName:
			'Each incoming item becomes one message of one job; the gateway checks every item before queueing any.',
		name: 'submitNotice',
		type: 'notice',
		default: '',
		displayOptions: showFor('bulk', ['submit']),
	},
	chatIdField('bulk', ['submit']),
	{
		displayName: 'Message Kind',
		name: 'messageKind',
		type: 'options',
		options: [
			{ name: 'Text', value: 'text' },
			{ name: 'Image by URL', value: 'imageUrl' },
			{ name: 'Image by ID', value: 'imageId' },
			{ name: 'Link', value: 'link' },
		],
		default: 'text',
		displayOptions: showFor('bulk', ['submit']),
	},
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 3 },
		required: true,
		default: '',
		description: 'At most 1000 characters',
		displayOptions: whenKind(['text']),
	},
	{
		displayName: 'Image URL',
		name: 'imageUrl',
		type: 'string',
		required: true,
		default: '',
		displayOptions: whenKind(['imageUrl']),
	},
	{
		displayName: 'Image ID',
		name: 'imageId',
		type: 'string',
		required: true,
		default: '',
		displayOptions: whenKind(['imageId']),
	},
	{
		displayName: 'URL',
		name: 'url',
		type: 'string',
		required: true,
		default: '',
		displayOptions: whenKind(['link']),
	},
	{
		displayName: 'Text',
		name: 'linkText',
		type: 'string',
		default: '',
		description: 'Optional text before the URL',
		displayOptions: whenKind(['link']),
	},
	senderField('bulk', ['submit']),
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: true,
		description:
			'Whether to wait until every item is sent or failed and output the final result, instead of the queued job',
		displayOptions: showFor('bulk', ['submit']),
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: showFor('bulk', ['submit']),
		options: [
			{
				displayName: 'Callback URL',
				name: 'callbackUrl',
				type: 'string',
				default: '',
				description: "Gets one POST with the job's summary when it ends, signed like deliveries",
			},
			{
				displayName: 'Fail When Items Fail',
				name: 'failOnItemErrors',
				type: 'boolean',
				default: true,
				description:
					'Whether a finished job with failed items makes this node fail (with Wait for Completion)',
			},
			idempotencyOption(false),
			{
				displayName: 'Poll Interval (Seconds)',
				name: 'pollSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 2,
			},
			{
				displayName: 'Wait Timeout (Seconds)',
				name: 'timeoutSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 600,
				description:
					'Fail if the job has not ended after this long (it keeps running in the gateway)',
			},
		],
	},
	{
		displayName: 'Job ID',
		name: 'jobId',
		type: 'string',
		required: true,
		default: '',
		description: 'The job_id Submit answered with',
		displayOptions: showFor('bulk', ['get', 'cancel']),
	},
];

function jobPath(jobId: unknown): string {
	return `/api/messages/send/bulk/${encodeURIComponent(String(jobId).trim())}`;
}

function bulkItem(context: IExecuteFunctions, i: number): IDataObject {
	const item: IDataObject = { chat_id: String(context.getNodeParameter('chatId', i)).trim() };
	const kind = context.getNodeParameter('messageKind', i) as string;
	if (kind === 'text') item.text = context.getNodeParameter('text', i);
	if (kind === 'imageUrl') item.image_url = context.getNodeParameter('imageUrl', i);
	if (kind === 'imageId') item.image_id = context.getNodeParameter('imageId', i);
	if (kind === 'link') {
		item.url = context.getNodeParameter('url', i);
		const text = context.getNodeParameter('linkText', i, '') as string;
		if (text) item.text = text;
	}
	return { ...item, ...senderFields(context, i) };
}

async function waitForEnd(
	context: IExecuteFunctions,
	jobId: string,
	options: IDataObject,
): Promise<IDataObject> {
	const pollMs = Number(options.pollSeconds ?? 2) * 1000;
	const deadline = Date.now() + Number(options.timeoutSeconds ?? 600) * 1000;
	for (;;) {
		const job = await gatewayRequest(context, 0, { method: 'GET', path: jobPath(jobId) });
		if (ENDED.includes(String(job.status))) return job;
		if (Date.now() + pollMs > deadline) {
			throw new NodeOperationError(context.getNode(), `Bulk job ${jobId} has not ended in time`, {
				description: `Last progress: ${job.sent} sent, ${job.failed} failed, ${job.pending} pending. It keeps running in the gateway.`,
			});
		}
		await sleep(pollMs);
	}
}

function failureReport(job: IDataObject): string {
	const failed = ((job.items as IDataObject[]) ?? []).filter((item) => item.status === 'failed');
	return failed.map((item) => `#${item.index} ${item.chat_id}: ${item.error}`).join('; ');
}

/** Submit runs once for all items: it returns the node's whole output. */
export async function bulkSubmit(context: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = context.getInputData();
	const pairedItem = items.map((_, item) => ({ item }));
	const options = context.getNodeParameter('options', 0, {}) as IDataObject;
	let job: IDataObject | undefined;
	try {
		const body: IDataObject = { messages: items.map((_, i) => bulkItem(context, i)) };
		if (options.callbackUrl) body.callback_url = options.callbackUrl;
		const headers = {
			'Idempotency-Key': idempotencyKey(context, 'bulk', 0, options.idempotencyKey, false),
		};
		job = await gatewayRequest(context, 0, {
			method: 'POST',
			path: '/api/messages/send/bulk',
			body,
			headers,
		});
		if (context.getNodeParameter('waitForCompletion', 0)) {
			job = await waitForEnd(context, String(job.job_id), options);
			if (Number(job.failed) > 0 && options.failOnItemErrors !== false) {
				throw new NodeOperationError(
					context.getNode(),
					`${job.failed} of ${job.total} bulk items failed`,
					{
						description: failureReport(job),
					},
				);
			}
		}
		return [{ json: job, pairedItem }];
	} catch (error) {
		if (!context.continueOnFail()) throw asNodeError(context.getNode(), error, 0);
		const failure = { error: error.message, description: error.description ?? null };
		return [{ json: job ? { ...job, ...failure } : failure, pairedItem }];
	}
}

export const bulkOperations: Record<string, Operation> = {
	get: async (context, i) =>
		gatewayRequest(context, i, {
			method: 'GET',
			path: jobPath(context.getNodeParameter('jobId', i)),
		}),
	cancel: async (context, i) =>
		gatewayRequest(context, i, {
			method: 'POST',
			path: `${jobPath(context.getNodeParameter('jobId', i))}/cancel`,
		}),
};
