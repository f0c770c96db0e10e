/** The pino logger of the control plane's own components (the xDS server logs through it). */
export const LOGGER = Symbol('LOGGER');
