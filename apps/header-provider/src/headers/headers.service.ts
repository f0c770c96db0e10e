import { Inject, Injectable } from '@nestjs/common';
import {
  HEADER_PROVIDER_CONFIG,
  type HeaderProviderConfig,
} from '../config/header-provider.config';
import { LOGGER, type Logger } from '../logging/logger';
import { HeaderProviderMetrics } from '../metrics/header-provider.metrics';
import { TokenService } from '../token/token.service';
import { nameProblem, valueProblem } from './field-syntax';

/**
 * The headers a workload's sidecar adds: the configured ones (checked once at start; invalid
 * ones are logged and never served) plus the live token. Undefined while there is no valid token.
 */
@Injectable()
export class HeadersService {
  private readonly fixed: Readonly<Record<string, string>>;

  constructor(
    @Inject(HEADER_PROVIDER_CONFIG) private readonly config: HeaderProviderConfig,
    private readonly tokens: TokenService,
    private readonly metrics: HeaderProviderMetrics,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    const fixed: Record<string, string> = {};
    for (const [name, value] of Object.entries(config.STATIC_HEADERS)) {
      const problem = nameProblem(name) ?? valueProblem(value);
      if (problem !== undefined) {
        // The name only when it is printable; never the value.
        const shown = nameProblem(name) === undefined ? name : JSON.stringify(name.slice(0, 64));
        this.log.warn({ header: shown, problem }, 'configured header is invalid; not served');
        this.metrics.invalidHeader();
        continue;
      }
      fixed[name.toLowerCase()] = value;
    }
    this.fixed = fixed;
  }

  current(): Record<string, string> | undefined {
    const token = this.tokens.current();
    if (token === undefined) return undefined;
    const problem = valueProblem(token);
    if (problem !== undefined) {
      this.log.error({ problem }, 'the auth service issued a token that is no valid header value');
      return undefined;
    }
    return { ...this.fixed, [this.config.TOKEN_HEADER]: token };
  }
}
