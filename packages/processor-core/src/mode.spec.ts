import { describe, expect, it } from 'vitest';
import { processingMode } from '@edge/protos';
import { fullMode, toEnvoyProcessingMode, toProtoMode, unionModes } from './mode';

describe('processing modes', () => {
  it('defaults to the smallest mode: request headers only', () => {
    expect(fullMode(undefined)).toEqual({
      requestHeaders: 'send',
      responseHeaders: 'skip',
      requestBody: 'none',
      responseBody: 'none',
      requestTrailers: 'skip',
      responseTrailers: 'skip',
    });
  });

  it('unions modes to the smallest that satisfies all', () => {
    const m = unionModes([
      { requestBody: 'streamed' },
      { requestBody: 'buffered', responseHeaders: 'send' },
      undefined,
    ]);
    expect(m.requestBody).toBe('buffered');
    expect(m.responseHeaders).toBe('send');
    expect(m.responseBody).toBe('none');
  });

  it('renders the Envoy processing_mode block', () => {
    expect(toEnvoyProcessingMode({ requestBody: 'buffered', responseHeaders: 'send' })).toEqual({
      request_header_mode: 'SEND',
      response_header_mode: 'SEND',
      request_body_mode: 'BUFFERED',
      response_body_mode: 'NONE',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    });
  });

  it('maps to the protobuf enum for mode_override', () => {
    const p = toProtoMode({ responseHeaders: 'skip', responseBody: 'streamed' });
    expect(p.responseHeaderMode).toBe(processingMode.ProcessingMode_HeaderSendMode.SKIP);
    expect(p.responseBodyMode).toBe(processingMode.ProcessingMode_BodySendMode.STREAMED);
    expect(p.requestHeaderMode).toBe(processingMode.ProcessingMode_HeaderSendMode.DEFAULT);
  });
});
