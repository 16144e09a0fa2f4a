import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { CHAT_TYPE_OPTIONS } from '../Avitogw/shared/descriptions';
import { ignoredBecause, notAMessage } from './filters';
import { ReplayMemory } from './replays';
import { TOLERANCE_SECONDS, verifySignature } from './signature';

const SETUP_NOTICE =
	"Set the gateway's N8N_WEBHOOK_URL to this node's Production URL (under Webhook URLs above), " +
	"N8N_WEBHOOK_SECRET to the credential's Signing Secret, restart the gateway, and publish this workflow. " +
	'Unsigned, forged or stale requests get 401 and start nothing; a signed request sent again starts nothing either. ' +
	'Without a Signing Secret in the credential nothing is checked: anyone who knows this URL can start the workflow.';

export const NO_SECRET_WARNING =
	'Avito (avitogw) Trigger: the credential has no Signing Secret, so deliveries are not verified and anyone ' +
	"who knows the webhook URL can start this workflow. Set it to the gateway's N8N_WEBHOOK_SECRET.";

/** Deliveries accepted within the signature's tolerance, for every trigger node of this n8n process. */
export const REPLAYS = new ReplayMemory();

function nodeKey(context: IWebhookFunctions): string {
	return `${context.getWorkflow().id ?? ''}/${context.getNode().id}/`;
}

async function hasSigningSecret(context: IHookFunctions): Promise<boolean> {
	try {
		const credentials = await context.getCredentials('avitogwApi');
		return Boolean(String(credentials.signingSecret ?? ''));
	} catch {
		return false; // no credential chosen: the webhook will refuse to run anyway
	}
}

/**
 * Receives the gateway's deliveries (contract §4), checks their Standard Webhooks signature on the raw
 * bytes, and starts the workflow with the normalized message itself as the item (with its `account` and
 * `automation` when the gateway sends them). Bodies that are not messages (a bulk job's callback; an
 * account's state unless asked for), messages the options filter out, and repeats of an accepted request
 * are acknowledged and start nothing.
 */
export class AvitogwTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Avito (avitogw) Trigger',
		name: 'avitogwTrigger',
		icon: { light: 'file:../../icons/avitogw.svg', dark: 'file:../../icons/avitogw.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: 'On a message delivered by the gateway',
		description:
			'Starts the workflow when a customer writes in Avito Messenger (delivered by avitogw)',
		defaults: { name: 'Avito (avitogw) Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'avitogwApi', required: true }],
		webhooks: [
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' },
		],
		properties: [
			{ displayName: SETUP_NOTICE, name: 'setupNotice', type: 'notice', default: '' },
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Account State Events',
						name: 'accountStateEvents',
						type: 'boolean',
						default: false,
						description:
							'Whether an account\'s change of state (event "account.state", e.g. Avito refused its credentials) also starts the workflow. Off: acknowledged and ignored.',
					},
					{
						displayName: 'Accounts',
						name: 'accounts',
						type: 'string',
						default: '',
						placeholder: 'moscow-shop, spb-shop',
						description:
							'Only messages of these accounts (account.slug), comma-separated. Empty: every account, and messages from a gateway without accounts.',
					},
					{
						displayName: 'Chat Types',
						name: 'chatTypes',
						type: 'multiOptions',
						options: CHAT_TYPE_OPTIONS,
						default: [],
						description:
							'Only messages from these kinds of chat (meta.chat_type). None selected: all.',
					},
					{
						displayName: 'Directions',
						name: 'directions',
						type: 'multiOptions',
						options: [
							{ name: 'Incoming (From the Customer)', value: 'in' },
							{ name: 'Outgoing (Sent by the Account)', value: 'out' },
						],
						default: [],
						description: 'Only messages of these directions (meta.direction). None selected: all.',
					},
					{
						displayName: 'Ignore Own Messages',
						name: 'ignoreOwn',
						type: 'boolean',
						default: true,
						description:
							"Whether to drop the account's own messages (direction out), which the gateway delivers when FORWARD_OWN_MESSAGES is on: a workflow that replies then does not answer its own replies",
					},
					{
						displayName: 'Skip Chats a Human Is Handling',
						name: 'skipHumanChats',
						type: 'boolean',
						default: true,
						description:
							'Whether to acknowledge without running the messages of chats a person has taken over (automation.state "human"), so the bot does not talk over them. Messages without automation (an older gateway) always run.',
					},
				],
			},
		],
	};

	// The gateway is pointed at n8n by its own N8N_WEBHOOK_URL setting and has no API to register a URL
	// through: activation registers nothing. It is where a credential without a Signing Secret is
	// reported, once per activation, in n8n's log. The replay memory outlives a deactivation on purpose:
	// deactivating and activating again must not reopen the window.
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				if (!(await hasSigningSecret(this))) this.logger.warn(NO_SECRET_WARNING);
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const response = this.getResponseObject();
		const refuse = (status: number, code: string, message: string): IWebhookResponseData => {
			response.status(status).json({ error: { code, message, details: null } });
			return { noWebhookResponse: true };
		};

		// The signature covers the exact bytes sent; n8n keeps them as rawBody (read on demand).
		if (!Buffer.isBuffer(request.rawBody) && typeof request.readRawBody === 'function') {
			await request.readRawBody();
		}
		const rawBody = request.rawBody;
		if (!Buffer.isBuffer(rawBody))
			return refuse(400, 'validation_error', 'The request body could not be read.');
		const credentials = await this.getCredentials('avitogwApi');
		const secret = String(credentials.signingSecret ?? '');
		const headers = this.getHeaderData() as IDataObject;
		const header = (name: string) =>
			typeof headers[name] === 'string' ? (headers[name] as string) : undefined;
		const nowSeconds = Math.floor(Date.now() / 1000);
		if (secret) {
			const verdict = verifySignature({ secret, rawBody, nowSeconds, header });
			if (!verdict.ok) return refuse(401, 'unauthorized', verdict.reason);
		}

		let message: IDataObject;
		try {
			message = JSON.parse(rawBody.toString('utf8'));
		} catch {
			return refuse(400, 'validation_error', 'The body is not JSON.');
		}
		if (!message || typeof message !== 'object' || Array.isArray(message)) {
			return refuse(400, 'validation_error', 'The body is not a JSON object.');
		}

		const options = this.getNodeParameter('options', {}) as IDataObject;
		const other = notAMessage(message, options);
		if (other) return { webhookResponse: { ok: true, ignored: other } };

		// A verified request is remembered until its timestamp is too old to verify (see replays.ts).
		const id = header('webhook-id');
		const timestamp = header('webhook-timestamp');
		if (id && timestamp) {
			const sentAt = secret ? Number(timestamp) : nowSeconds;
			const key = `${nodeKey(this)}${id}.${timestamp}`;
			if (!REPLAYS.firstTime(key, sentAt + TOLERANCE_SECONDS, nowSeconds))
				return { webhookResponse: { ok: true, ignored: `repeat of webhook-id ${id}` } };
		}

		const reason = ignoredBecause(message, options);
		if (reason) return { webhookResponse: { ok: true, ignored: reason } };
		return { workflowData: [this.helpers.returnJsonArray([message])] };
	}
}
