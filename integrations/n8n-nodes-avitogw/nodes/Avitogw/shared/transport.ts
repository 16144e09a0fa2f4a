/**
 * The one way the action node talks to the gateway: base URL and API key from the credential, the
 * item's Account as the path prefix, JSON in and out, and the gateway's error envelope turned into an
 * n8n error that keeps its code.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';
import { accountPath } from './account';

export const CREDENTIAL = 'avitogwApi';

export interface GatewayCall {
	method: IHttpRequestMethods;
	/** The unprefixed route (`/api/...`); every route the node calls is account-bound (contract §8). */
	path: string;
	qs?: IDataObject;
	body?: IDataObject | Buffer;
	headers?: IDataObject;
}

/** What the gateway said when it refused a call: `{"error": {"code", "message", "details"}}`. */
interface GatewayErrorBody {
	code: string;
	message: string;
	details: unknown;
}

function envelope(body: unknown): GatewayErrorBody | undefined {
	const error = (body as { error?: unknown } | undefined)?.error as GatewayErrorBody | undefined;
	if (error && typeof error.code === 'string' && typeof error.message === 'string') return error;
	return undefined;
}

function parsed(body: unknown): unknown {
	// A JSON answer to a multipart request (sent with json: false) may come back as text or bytes.
	const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
	if (typeof text !== 'string') return text;
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}

export async function baseUrl(context: IExecuteFunctions): Promise<string> {
	const credentials = await context.getCredentials(CREDENTIAL);
	return String(credentials.baseUrl ?? '').replace(/\/+$/, '');
}

/** Calls the gateway and answers its JSON; any non-2xx answer throws a NodeApiError for `itemIndex`. */
export async function gatewayRequest(
	context: IExecuteFunctions,
	itemIndex: number,
	call: GatewayCall,
): Promise<IDataObject> {
	const path = accountPath(context, itemIndex, call.path);
	const options: IHttpRequestOptions = {
		method: call.method,
		url: (await baseUrl(context)) + path,
		qs: call.qs,
		body: call.body,
		headers: { Accept: 'application/json', ...call.headers },
		json: !Buffer.isBuffer(call.body),
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	let response: { statusCode: number; body: unknown };
	try {
		response = await context.helpers.httpRequestWithAuthentication.call(
			context,
			CREDENTIAL,
			options,
		);
	} catch (error) {
		throw new NodeApiError(context.getNode(), error as JsonObject, {
			itemIndex,
			message: `The gateway at ${options.url} could not be reached`,
		});
	}
	const body = parsed(response.body);
	if (response.statusCode >= 200 && response.statusCode < 300) return (body ?? {}) as IDataObject;

	const refused = envelope(body);
	const error = new NodeApiError(
		context.getNode(),
		(refused ?? { body }) as unknown as JsonObject,
		{
			itemIndex,
			httpCode: String(response.statusCode),
			message: refused
				? `${refused.message} [${refused.code}]`
				: `The gateway answered HTTP ${response.statusCode}`,
			description: refused?.details ? JSON.stringify(refused.details) : undefined,
		},
	);
	// Kept apart from the message so "Continue On Fail" can output the gateway's code as a field.
	error.context.code = refused?.code ?? null;
	error.context.details = (refused?.details ?? null) as IDataObject | null;
	throw error;
}
