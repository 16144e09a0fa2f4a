/** Limit/offset paging against the gateway, one page or every page. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

export interface Page {
	rows: IDataObject[];
	hasMore: boolean;
}

export interface PagingRules {
	pageSize: number;
	/** The highest offset the gateway takes (Avito serves nothing past 1000). */
	maxOffset: number;
}

export async function paged(
	context: IExecuteFunctions,
	itemIndex: number,
	rules: PagingRules,
	fetchPage: (limit: number, offset: number) => Promise<Page>,
): Promise<IDataObject[]> {
	if (!context.getNodeParameter('returnAll', itemIndex, false)) {
		const limit = context.getNodeParameter('limit', itemIndex, 50) as number;
		const offset = context.getNodeParameter('offset', itemIndex, 0) as number;
		return (await fetchPage(limit, offset)).rows;
	}
	const rows: IDataObject[] = [];
	for (let offset = 0; offset <= rules.maxOffset; offset += rules.pageSize) {
		const page = await fetchPage(rules.pageSize, offset);
		rows.push(...page.rows);
		if (!page.hasMore || page.rows.length === 0) break;
	}
	return rows;
}

export function hasMore(answer: IDataObject): boolean {
	return Boolean((answer.meta as IDataObject | undefined)?.has_more);
}
