/**
 * The Account parameter (contract §8): which of the gateway's Avito accounts a call acts on.
 *
 * Empty means the unprefixed routes (`/api/chats`, ...), which act on the API key's account or on the
 * gateway's only account; this is how every gateway from before accounts is called. A slug sends the same
 * call to `/api/accounts/{slug}/...`. The list comes from `GET /api/accounts`; a gateway without that
 * route (404) gives an empty list, and a slug can still be typed as an expression.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeProperties,
	INodePropertyOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

export const SLUG_PATTERN = /^[a-z0-9-]{1,40}$/;

export const NO_ACCOUNTS_API_HINT =
	'This gateway has no account list (GET /api/accounts answered 404): leave Account empty, ' +
	'or type a slug with an expression such as {{ $json.account.slug }}.';

export const accountProperty: INodeProperties = {
	displayName: 'Account Name or ID',
	name: 'account',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getAccounts' },
	default: '',
	description:
		'The Avito account to act for, by its slug. Empty: the routes without an account, i.e. the API key\'s account or the gateway\'s only one. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	hint: 'For a reply from the account that received the message, use {{ $json.account.slug }}. If the list stays empty the gateway has no accounts yet: leave this empty.',
};

/** `/api/accounts/{slug}` for the item's Account, or '' when it is empty; a malformed slug is refused. */
export function accountPrefix(context: IExecuteFunctions, itemIndex: number): string {
	const given = context.getNodeParameter('account', itemIndex, '');
	const slug = given === null || given === undefined ? '' : String(given).trim();
	if (!slug) return '';
	if (!SLUG_PATTERN.test(slug)) {
		throw new NodeOperationError(
			context.getNode(),
			`Account "${slug}" is not a valid account slug`,
			{
				itemIndex,
				description:
					'A slug has 1 to 40 lowercase letters, digits or "-" (e.g. "moscow-shop"). Leave Account empty for the routes without an account.',
			},
		);
	}
	return `/api/accounts/${encodeURIComponent(slug)}`;
}

/** An account-bound path (`/api/...`) moved under the item's account, when one is set. */
export function accountPath(context: IExecuteFunctions, itemIndex: number, path: string): string {
	const prefix = accountPrefix(context, itemIndex);
	return prefix ? prefix + path.replace(/^\/api(?=\/)/, '') : path;
}

/** loadOptions: the first option leaves Account empty; then every account the key may see. */
export async function getAccounts(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const credentials = await this.getCredentials('avitogwApi');
	const url = `${String(credentials.baseUrl ?? '').replace(/\/+$/, '')}/api/accounts`;
	const none: INodePropertyOptions = {
		name: '(None: Routes Without an Account)',
		value: '',
		description: "The API key's account, or the gateway's only one",
	};
	const response = (await this.helpers.httpRequestWithAuthentication.call(this, 'avitogwApi', {
		method: 'GET',
		url,
		headers: { Accept: 'application/json' },
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	})) as { statusCode: number; body: unknown };
	if (response.statusCode === 404) {
		return [{ ...none, description: NO_ACCOUNTS_API_HINT }];
	}
	if (response.statusCode < 200 || response.statusCode >= 300) {
		throw new NodeApiError(this.getNode(), (response.body ?? {}) as JsonObject, {
			httpCode: String(response.statusCode),
			message: `The gateway answered HTTP ${response.statusCode} to GET /api/accounts`,
		});
	}
	const accounts = ((response.body as IDataObject | undefined)?.accounts ?? []) as IDataObject[];
	const options = accounts
		.filter((account) => typeof account.slug === 'string' && account.slug)
		.map((account) => ({
			name: account.name
				? `${String(account.name)} (${String(account.slug)})`
				: String(account.slug),
			value: String(account.slug),
			description: account.state ? `State: ${String(account.state)}` : undefined,
		}));
	return [none, ...options];
}
