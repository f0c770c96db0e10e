import {
  BadRequestException,
  ForbiddenException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { type Request, type Response } from 'express';
import { bodyParserErrorHandler, toApiError } from './api-exception.filter';

describe('toApiError', () => {
  it('keeps our message/details shape', () => {
    expect(toApiError(new ForbiddenException({ message: 'Forbidden', details: { a: 1 } }))).toEqual(
      {
        message: 'Forbidden',
        status: 403,
        details: { a: 1 },
      },
    );
  });

  it('turns validation errors into a list of details', () => {
    const e = new BadRequestException({
      message: ['a must be int'],
      error: 'Bad Request',
      statusCode: 400,
    });
    expect(toApiError(e)).toEqual({
      message: 'Validation failed',
      status: 400,
      details: ['a must be int'],
    });
  });

  it('maps Nest built-ins such as an unknown route', () => {
    expect(toApiError(new NotFoundException('Cannot GET /nope'))).toEqual({
      message: 'Not Found',
      status: 404,
      details: 'Cannot GET /nope',
    });
  });

  it('maps body-parser errors to 400 without echoing the body', () => {
    const e = Object.assign(new SyntaxError('Unexpected token s in JSON: secret'), {
      status: 400,
      type: 'entity.parse.failed',
    });
    expect(toApiError(e)).toEqual({
      message: 'Bad Request',
      status: 400,
      details: 'malformed request body',
    });
  });

  it('hides unexpected errors', () => {
    expect(toApiError(new Error('db password is hunter2'))).toEqual({
      message: 'Internal Server Error',
      status: 500,
      details: null,
    });
  });

  it('wraps terminus results', () => {
    const r = { status: 'error', info: {}, error: { database: { status: 'down' } }, details: {} };
    const out = toApiError(new ServiceUnavailableException(r));
    expect(out.status).toBe(503);
    expect(out.message).toBe('Service Unavailable');
  });
});

describe('bodyParserErrorHandler', () => {
  it('answers parse errors with JSON and passes anything else on', () => {
    let sent: { status?: number; body?: unknown } = {};
    const res = {
      status(s: number) {
        sent.status = s;
        return this;
      },
      json(b: unknown) {
        sent.body = b;
        return this;
      },
    } as unknown as Response;
    const parseError = Object.assign(new SyntaxError('x'), {
      status: 400,
      type: 'entity.parse.failed',
    });
    let passed: unknown;
    bodyParserErrorHandler(parseError, {} as Request, res, (e?: unknown) => (passed = e));
    expect(sent).toEqual({
      status: 400,
      body: { message: 'Bad Request', status: 400, details: 'malformed request body' },
    });
    expect(passed).toBeUndefined();
    sent = {};
    const other = new Error('boom');
    bodyParserErrorHandler(other, {} as Request, res, (e?: unknown) => (passed = e));
    expect(passed).toBe(other);
    expect(sent).toEqual({});
  });
});
