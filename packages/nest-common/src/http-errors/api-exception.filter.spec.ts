import {
  type ArgumentsHost,
  Logger,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { type Request, type Response } from 'express';
import { describe, expect, it, vi } from 'vitest';
import {
  ApiExceptionFilter,
  bodyParserErrorHandler,
  type HttpErrorResponse,
  isBodyParserError,
} from './api-exception.filter';

interface Sent {
  status?: number;
  body?: unknown;
  headers: Record<string, string>;
}

function fakeResponse(headersSent = false): { res: Response; sent: Sent } {
  const sent: Sent = { headers: {} };
  const res = {
    headersSent,
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
      return this;
    },
    status(s: number) {
      sent.status = s;
      return this;
    },
    json(b: unknown) {
      sent.body = b;
      return this;
    },
  } as unknown as Response;
  return { res, sent };
}

function httpHost(res: Response, type = 'http'): ArgumentsHost {
  return {
    getType: () => type,
    switchToHttp: () => ({ getResponse: () => res }),
  } as unknown as ArgumentsHost;
}

const toResponse = (e: unknown): HttpErrorResponse =>
  e instanceof NotFoundException || e instanceof UnauthorizedException
    ? { status: e.getStatus(), body: { code: e.getStatus() } }
    : { status: 500, body: { code: 'hidden' } };

describe('ApiExceptionFilter', () => {
  it("answers with the app's status and body", () => {
    const { res, sent } = fakeResponse();
    new ApiExceptionFilter({ toResponse }).catch(new NotFoundException(), httpHost(res));
    expect(sent).toEqual({ status: 404, body: { code: 404 }, headers: {} });
  });

  it('sets WWW-Authenticate on 401 only when the app names one', () => {
    const a = fakeResponse();
    new ApiExceptionFilter({ toResponse, wwwAuthenticate: 'Bearer realm="x"' }).catch(
      new UnauthorizedException(),
      httpHost(a.res),
    );
    expect(a.sent.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="x"' });
    const b = fakeResponse();
    new ApiExceptionFilter({ toResponse }).catch(new UnauthorizedException(), httpHost(b.res));
    expect(b.sent).toEqual({ status: 401, body: { code: 401 }, headers: {} });
  });

  it('logs an unexpected error by name and message and does not send its cause', () => {
    const filter = new ApiExceptionFilter({ toResponse });
    const log = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { res, sent } = fakeResponse();
    filter.catch(new TypeError('db password is hunter2'), httpHost(res));
    expect(sent.body).toEqual({ code: 'hidden' });
    expect(log).toHaveBeenCalledWith('unhandled error: TypeError: db password is hunter2');
    log.mockRestore();
  });

  it('leaves a response already under way alone', () => {
    const { res, sent } = fakeResponse(true);
    new ApiExceptionFilter({ toResponse }).catch(new NotFoundException(), httpHost(res));
    expect(sent).toEqual({ headers: {} });
  });

  it('rethrows outside an HTTP context', () => {
    const { res } = fakeResponse();
    const e = new NotFoundException();
    expect(() => new ApiExceptionFilter({ toResponse }).catch(e, httpHost(res, 'rpc'))).toThrow(e);
  });
});

describe('bodyParserErrorHandler', () => {
  const handler = bodyParserErrorHandler((err) => ({
    status: err.status,
    body: { type: err.type },
  }));

  it('answers body-parser errors with JSON and passes anything else on', () => {
    const parse = fakeResponse();
    const parseError = Object.assign(new SyntaxError('x'), {
      status: 400,
      type: 'entity.parse.failed',
    });
    let passed: unknown = 'not called';
    handler(parseError, {} as Request, parse.res, (e?: unknown) => (passed = e));
    expect(parse.sent).toEqual({ status: 400, body: { type: 'entity.parse.failed' }, headers: {} });
    expect(passed).toBe('not called');

    const other = fakeResponse();
    const boom = new Error('boom');
    handler(boom, {} as Request, other.res, (e?: unknown) => (passed = e));
    expect(passed).toBe(boom);
    expect(other.sent).toEqual({ headers: {} });
  });

  it('knows a body-parser error by a 4xx status and a type', () => {
    expect(isBodyParserError({ status: 413, type: 'entity.too.large' })).toBe(true);
    expect(isBodyParserError({ status: 500, type: 'x' })).toBe(false);
    expect(isBodyParserError({ status: 400 })).toBe(false);
    expect(isBodyParserError(null)).toBe(false);
  });
});
