export { ConfigError, loadConfig } from './load-config';
export { env } from './env';
export { z } from 'zod';
export { MAX_PEM_FILE_BYTES, type PemFileKind, readPemFiles } from './pem-files';
