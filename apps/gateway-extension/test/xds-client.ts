import { credentials, type ServiceError } from '@grpc/grpc-js';
import { egExtension } from '@edge/protos';

type Unary<Req, Res> = (req: Req, cb: (err: ServiceError | null, res?: Res) => void) => unknown;

function call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    fn(req, (err, res) =>
      err ? reject(err) : res === undefined ? reject(new Error('no response')) : resolve(res),
    ),
  );
}

/** Envoy Gateway's side of the hooks: a grpc-js client of the generated service definition. */
export class HookClient {
  private readonly client: egExtension.EnvoyGatewayExtensionClient;

  constructor(port: number) {
    this.client = new egExtension.EnvoyGatewayExtensionClient(
      `127.0.0.1:${port}`,
      credentials.createInsecure(),
    );
  }

  listener(
    req: egExtension.PostHTTPListenerModifyRequest,
  ): Promise<egExtension.PostHTTPListenerModifyResponse> {
    return call((r, cb) => this.client.postHttpListenerModify(r, cb), req);
  }

  route(req: egExtension.PostRouteModifyRequest): Promise<egExtension.PostRouteModifyResponse> {
    return call((r, cb) => this.client.postRouteModify(r, cb), req);
  }

  translate(
    req: egExtension.PostTranslateModifyRequest,
  ): Promise<egExtension.PostTranslateModifyResponse> {
    return call((r, cb) => this.client.postTranslateModify(r, cb), req);
  }

  close(): void {
    this.client.close();
  }
}
