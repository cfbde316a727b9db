// Loopback ports for the servers the tests start.
import net from 'node:net';

// A port free on 127.0.0.1 right now (the kernel picks it; the caller binds it next).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// True when something accepts TCP connections on 127.0.0.1:`port`.
export function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
