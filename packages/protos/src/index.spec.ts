import { describe, expect, it } from 'vitest';
import { accessLogService, authV1, extProc } from './index';

describe('@edge/protos', () => {
  it('round-trips an ext_proc request with raw_value headers (what Envoy >= 1.34 sends)', () => {
    const msg = extProc.ProcessingRequest.fromPartial({
      request: {
        $case: 'requestHeaders',
        value: {
          headers: {
            headers: [
              { key: ':path', rawValue: Buffer.from('/api/v0/echo') },
              { key: 'x-a', rawValue: Buffer.from('1') },
              { key: 'x-a', rawValue: Buffer.from('2') },
            ],
          },
          endOfStream: true,
        },
      },
    });
    const decoded = extProc.ProcessingRequest.decode(
      extProc.ProcessingRequest.encode(msg).finish(),
    );
    expect(decoded.request?.$case).toBe('requestHeaders');
    const headers =
      decoded.request?.$case === 'requestHeaders' ? decoded.request.value.headers?.headers : [];
    expect(headers?.map((h) => [h.key, h.rawValue.toString()])).toEqual([
      [':path', '/api/v0/echo'],
      ['x-a', '1'],
      ['x-a', '2'],
    ]);
  });

  it('exposes grpc-js service definitions with the wire paths Envoy and clients call', () => {
    expect(extProc.ExternalProcessorService.process.path).toBe(
      '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
    );
    expect(extProc.ExternalProcessorService.process.requestStream).toBe(true);
    expect(authV1.KeyVerificationServiceService.verifyKey.path).toBe(
      '/edge.auth.v1.KeyVerificationService/VerifyKey',
    );
    expect(accessLogService.AccessLogServiceService.streamAccessLogs.path).toBe(
      '/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs',
    );
    expect(accessLogService.AccessLogServiceService.streamAccessLogs.requestStream).toBe(true);
  });
});
