import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { automationOperations, automationProperties } from './resources/automation';
import { blacklistOperations, blacklistProperties } from './resources/blacklist';
import { bulkOperations, bulkProperties, bulkSubmit } from './resources/bulk';
import { chatOperations, chatProperties } from './resources/chat';
import { deliveryOperations, deliveryProperties } from './resources/delivery';
import { messageOperations, messageProperties } from './resources/message';
import { accountProperty, getAccounts } from './shared/account';
import type { Operation } from './shared/descriptions';
import { asNodeError } from './shared/errors';

const OPERATIONS: Record<string, Record<string, Operation>> = {
	message: messageOperations,
	chat: chatOperations,
	bulk: bulkOperations,
	blacklist: blacklistOperations,
	delivery: deliveryOperations,
	automation: automationOperations,
};

/**
 * The avitogw gateway's API as an n8n node: one call per incoming item (bulk Submit: one job for all),
 * under the item's Account when one is set.
 */
export class Avitogw implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Avito (avitogw)',
		name: 'avitogw',
		icon: { light: 'file:../../icons/avitogw.svg', dark: 'file:../../icons/avitogw.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Send and read Avito Messenger messages through an avitogw gateway',
		defaults: { name: 'Avito (avitogw)' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'avitogwApi', required: true }],
		properties: [
			accountProperty,
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Blacklist', value: 'blacklist' },
					{ name: 'Bulk Send', value: 'bulk' },
					{ name: 'Chat', value: 'chat' },
					{ name: 'Chat Automation', value: 'automation' },
					{ name: 'Delivery', value: 'delivery' },
					{ name: 'Message', value: 'message' },
				],
				default: 'message',
			},
			...messageProperties,
			...chatProperties,
			...bulkProperties,
			...blacklistProperties,
			...deliveryProperties,
			...automationProperties,
		],
	};

	methods = { loadOptions: { getAccounts } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const resource = this.getNodeParameter('resource', 0) as string;
		const operation = this.getNodeParameter('operation', 0) as string;
		if (resource === 'bulk' && operation === 'submit') return [await bulkSubmit(this)];

		const run = OPERATIONS[resource]?.[operation];
		if (!run)
			throw new NodeOperationError(this.getNode(), `Unknown operation ${resource}: ${operation}`);
		const output: INodeExecutionData[] = [];
		const items = this.getInputData();
		for (let i = 0; i < items.length; i++) {
			try {
				const answer = await run(this, i);
				const rows: IDataObject[] = Array.isArray(answer) ? answer : [answer];
				for (const json of rows) output.push({ json, pairedItem: { item: i } });
			} catch (error) {
				if (!this.continueOnFail()) throw asNodeError(this.getNode(), error, i);
				output.push({
					json: {
						error: error.message,
						code: error.context?.code ?? null,
						details: error.context?.details ?? null,
						httpCode: error.httpCode ?? null,
						description: error.description ?? null,
					},
					pairedItem: { item: i },
				});
			}
		}
		return [output];
	}
}
