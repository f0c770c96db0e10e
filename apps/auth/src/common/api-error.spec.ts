import {
  BadRequestException,
  ForbiddenException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { bodyParserErrorResponse, toApiError, toApiResponse } from './api-error';

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

describe('toApiResponse', () => {
  it('answers with the status of the body', () => {
    expect(toApiResponse(new NotFoundException('Cannot GET /nope'))).toEqual({
      status: 404,
      body: { message: 'Not Found', status: 404, details: 'Cannot GET /nope' },
    });
  });
});

describe('bodyParserErrorResponse', () => {
  it('answers parse errors with JSON that does not echo the body', () => {
    const parseError = Object.assign(new SyntaxError('x: secret'), {
      status: 400,
      type: 'entity.parse.failed',
    });
    expect(bodyParserErrorResponse(parseError)).toEqual({
      status: 400,
      body: { message: 'Bad Request', status: 400, details: 'malformed request body' },
    });
  });

  it('names a body that is too large', () => {
    expect(bodyParserErrorResponse({ status: 413, type: 'entity.too.large' })).toEqual({
      status: 413,
      body: { message: 'Payload Too Large', status: 413, details: 'request body too large' },
    });
  });
});
