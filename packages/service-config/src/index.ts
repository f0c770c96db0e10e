export { ConfigError, loadConfig } from './load-config';
export { env } from './env';
export { z } from 'zod';
