/** The trigger's rules: why a delivered body starts no workflow, or undefined when it does. */
import type { IDataObject } from 'n8n-workflow';

export const ACCOUNT_STATE_EVENT = 'account.state';

/** The slugs of the "Accounts" option: a comma (or space) separated string, or a list. */
export function accountSlugs(option: unknown): string[] {
	const parts = Array.isArray(option) ? option.map(String) : String(option ?? '').split(/[\s,]+/);
	return parts.map((slug) => slug.trim()).filter(Boolean);
}

/** The gateway marks every message `"event": "message"`; it signs other bodies too (a bulk job's callback is
 * `"bulk_job.finished"`), which must not run a message workflow. No `event`: a gateway from before it.
 * An account's change of state (`"account.state"`) runs it only with the option that asks for it. */
export function notAMessage(body: IDataObject, options: IDataObject = {}): string | undefined {
	if (body.event === undefined || body.event === 'message') return undefined;
	if (body.event === ACCOUNT_STATE_EVENT && options.accountStateEvents === true) return undefined;
	return `event ${typeof body.event === 'string' ? body.event : JSON.stringify(body.event)}`;
}

/** The "Accounts" option: a body from an account not listed (or from no account) while some are listed. */
function otherAccount(body: IDataObject, options: IDataObject): string | undefined {
	const wanted = accountSlugs(options.accounts);
	if (!wanted.length) return undefined;
	const slug = (body.account as IDataObject | undefined)?.slug;
	if (typeof slug !== 'string' || !slug) return 'no account';
	return wanted.includes(slug) ? undefined : `account ${slug}`;
}

/** The trigger's options: accounts, chats in human hands, own messages, directions, chat types. */
export function ignoredBecause(body: IDataObject, options: IDataObject): string | undefined {
	const account = otherAccount(body, options);
	if (account) return account;
	if (body.event === ACCOUNT_STATE_EVENT) return undefined; // not a message: no message rules apply
	const automation = (body.automation ?? {}) as IDataObject;
	if (options.skipHumanChats !== false && automation.state === 'human')
		return 'chat in human hands';
	const meta = (body.meta ?? {}) as IDataObject;
	const direction = String(meta.direction ?? '');
	const chatType = String(meta.chat_type ?? '');
	if (options.ignoreOwn !== false && direction === 'out') return 'own message';
	const directions = (options.directions as string[] | undefined) ?? [];
	if (directions.length && !directions.includes(direction))
		return `direction ${direction || 'unknown'}`;
	const chatTypes = (options.chatTypes as string[] | undefined) ?? [];
	if (chatTypes.length && !chatTypes.includes(chatType))
		return `chat type ${chatType || 'unknown'}`;
	return undefined;
}
