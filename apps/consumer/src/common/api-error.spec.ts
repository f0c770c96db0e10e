import { BadRequestException, NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { toApiResponse } from './api-error';

describe('toApiResponse', () => {
  it('sends a body that has details as it is', () => {
    const body = { message: 'Not Found', status: 404, details: 'UnknownRecord' };
    expect(toApiResponse(new NotFoundException(body))).toEqual({ status: 404, body });
  });

  it("names other HttpExceptions' class in details", () => {
    expect(toApiResponse(new BadRequestException('no'))).toEqual({
      status: 400,
      body: { message: 'no', status: 400, details: 'BadRequestException' },
    });
  });

  it('hides the cause of anything else', () => {
    expect(toApiResponse(new Error('db password is hunter2'))).toEqual({
      status: 500,
      body: { message: 'Internal Server Error', status: 500, details: 'Unexpected' },
    });
  });
});
