/**
 * A multipart/form-data body built in memory, for `POST /api/messages/send/image` with a file.
 *
 * Built by hand so the package needs no runtime dependency (n8n's verified-node rules forbid them).
 */
import { randomBytes } from 'crypto';

export interface FilePart {
	name: string;
	fileName: string;
	mimeType: string;
	data: Buffer;
}

function quoted(value: string): string {
	return value.replace(/["\r\n\\]/g, '_');
}

export function multipartBody(
	fields: Record<string, string>,
	file: FilePart,
): { body: Buffer; contentType: string } {
	const boundary = `----avitogw${randomBytes(12).toString('hex')}`;
	const parts: Buffer[] = [];
	for (const [name, value] of Object.entries(fields)) {
		parts.push(
			Buffer.from(
				`--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`,
				'utf8',
			),
		);
	}
	parts.push(
		Buffer.from(
			`--${boundary}\r\nContent-Disposition: form-data; name="${quoted(file.name)}"; ` +
				`filename="${quoted(file.fileName)}"\r\nContent-Type: ${file.mimeType}\r\n\r\n`,
			'utf8',
		),
		file.data,
		Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'),
	);
	return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
