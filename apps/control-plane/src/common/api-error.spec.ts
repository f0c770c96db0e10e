import { NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { apiError, bodyParserErrorResponse, toApiResponse } from './api-error';

describe('toApiResponse', () => {
  it('keeps our own error bodies', () => {
    expect(toApiResponse(apiError(409, 'Conflict x'))).toEqual({
      status: 409,
      body: { message: 'Conflict', status: 409, details: 'Conflict x' },
    });
  });

  it("names Nest's built-ins by class", () => {
    expect(toApiResponse(new NotFoundException('Cannot GET /nope'))).toEqual({
      status: 404,
      body: { message: 'Not Found', status: 404, details: 'NotFoundException Cannot GET /nope' },
    });
  });

  it('hides the cause of anything else', () => {
    expect(toApiResponse(new Error('db password is hunter2'))).toEqual({
      status: 500,
      body: {
        message: 'Internal Server Error',
        status: 500,
        details: 'InternalError The request could not be processed',
      },
    });
  });
});

describe('bodyParserErrorResponse', () => {
  it('answers 413 for a body too large and 400 for bad JSON', () => {
    expect(bodyParserErrorResponse({ status: 413, type: 'entity.too.large' }).body).toMatchObject({
      status: 413,
      details: 'PayloadTooLarge The request body is too large',
    });
    expect(bodyParserErrorResponse({ status: 400, type: 'entity.parse.failed' })).toMatchObject({
      status: 400,
      body: { status: 400, details: 'MalformedBody The body is not valid JSON' },
    });
  });
});
