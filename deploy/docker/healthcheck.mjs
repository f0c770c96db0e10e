// The app images' HEALTHCHECK: GET http://127.0.0.1:$<HEALTH_PORT_ENV><HEALTH_PATH>, healthy on
// a status below 400; with HEALTH_PATH empty, healthy when the port accepts a TCP connection.
// The port is read at check time, so a container started with another port stays checkable.
import { connect } from 'node:net';

const env = process.env;
const port = Number(env[env.HEALTH_PORT_ENV ?? 'PORT'] ?? env.HEALTH_PORT_DEFAULT);
const path = env.HEALTH_PATH ?? '';
const fail = (why) => {
  console.error(`unhealthy: ${why}`);
  process.exit(1);
};

if (path === '') {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setTimeout(2000, () => fail('timeout'));
  socket.once('connect', () => {
    socket.destroy();
    process.exit(0);
  });
  socket.once('error', (e) => fail(e.message));
} else {
  fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2500) }).then(
    (res) => (res.status < 400 ? process.exit(0) : fail(`HTTP ${res.status}`)),
    (e) => fail(e.message),
  );
}
