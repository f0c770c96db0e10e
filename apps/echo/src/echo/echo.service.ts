import { Injectable } from '@nestjs/common';

export interface EchoedRequest {
  command: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string;
  message: 'Hello';
}

/** Turns a request into the echo document. Pure: no I/O. */
@Injectable()
export class EchoService {
  echo(input: {
    method: string;
    url: string;
    headers: Record<string, string | string[] | undefined>;
    body: unknown;
  }): EchoedRequest {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(input.headers)) {
      if (value !== undefined) headers[name] = value;
    }
    return {
      command: input.method,
      path: input.url,
      headers,
      body: bodyText(input.body),
      message: 'Hello',
    };
  }
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
}
