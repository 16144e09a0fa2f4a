import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/**
 * One avitogw gateway: where it is, its API key, and the secret it signs deliveries with.
 *
 * The test calls a cheap keyed endpoint (`GET /api/deliveries?limit=1`, the gateway's own database, no
 * Avito call), so n8n's "Test credential" shows the gateway's own 401 for a wrong key and a connection
 * error or 404 for a wrong address.
 */
export class AvitogwApi implements ICredentialType {
	name = 'avitogwApi';

	displayName = 'Avito (Avitogw) API';

	icon: Icon = { light: 'file:../icons/avitogw.svg', dark: 'file:../icons/avitogw.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-avitogw';

	properties: INodeProperties[] = [
		{
			displayName: 'Gateway URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://127.0.0.1:8765',
			placeholder: 'https://avitogw.example.com',
			required: true,
			description: 'The address of the avitogw gateway, without a trailing /api',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: "The gateway's API_KEY, sent as the X-API-Key header",
		},
		{
			displayName: 'Signing Secret',
			name: 'signingSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				"The gateway's N8N_WEBHOOK_SECRET (whsec_… or any string). The trigger refuses deliveries whose signature does not match it. Leave empty only if the gateway signs nothing: the trigger then accepts whatever is posted to its URL (and says so in n8n's log when its workflow is activated).",
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'X-API-Key': '={{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/api/deliveries',
			qs: { limit: 1 },
			method: 'GET',
		},
	};
}
