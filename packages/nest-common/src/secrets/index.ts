export { constantTimeEqual } from './constant-time';
