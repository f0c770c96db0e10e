// The benchmark upstream: a minimal node:http server (its own process), small fixed answer.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = Buffer.from('{"ok":true}');
createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
