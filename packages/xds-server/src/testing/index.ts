// @edge/xds-server/testing: a simulated Envoy (one ADS stream that ACKs/NACKs like Envoy) for
// tests and benchmarks of anything built on the server.
export { AdsTestClient, type AdsTestClientOptions, type ClientResponse } from './ads-client';
