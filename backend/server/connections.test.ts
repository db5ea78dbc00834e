import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './config';
import { connectionCap, FD_RESERVE, MIN_CONNECTIONS, openFileLimit, reservedFds, UNKNOWN_FD_LIMIT } from './connections';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             unlimited            unlimited            processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

/** The service's configuration from LAD_* variables and, when given, a config file holding `file`. */
function config(env: Record<string, string> = {}, file?: object) {
  if (!file) return loadConfig(env);
  const at = path.join(mkdtempSync(path.join(tmpdir(), 'lad-conns-')), 'lad.json');
  writeFileSync(at, JSON.stringify(file));
  return loadConfig({ LAD_CONFIG: at, ...env });
}

test('the open-file limit is read from /proc/self/limits text', () => {
  expect(openFileLimit(LIMITS)).toBe(20_000);
  expect(openFileLimit(LIMITS.replace('20000                20000', 'unlimited            unlimited'))).toBe(Number.MAX_SAFE_INTEGER);
  expect(openFileLimit('nothing here')).toBeNull();
  if (process.platform === 'linux') expect(openFileLimit()).toBeGreaterThan(0);
});

test('default cap: the fd limit less a base, 4 per possible source and what configured sources may open', () => {
  const plain = config();
  expect(reservedFds(plain)).toBe(FD_RESERVE.base + FD_RESERVE.perSource * 100);
  expect(connectionCap(plain, 20_000)).toBe(20_000 - 464);
  expect(connectionCap(plain, null)).toBe(UNKNOWN_FD_LIMIT - 464);
  // a syslog source may hold its maxConnections on TCP; a file tail gets the flat allowance
  const withSources = config({}, {
    sources: [
      { type: 'syslog', name: 'sys', udpPort: null, maxConnections: 1000 },
      { type: 'file', name: 'f', path: '/tmp/none.log' },
    ],
  });
  expect(reservedFds(withSources)).toBe(64 + 4 * 102 + (1000 + 3) + 16);
  // a limit too small for the reserve still lets some connections in
  expect(connectionCap(withSources, 1024)).toBe(MIN_CONNECTIONS);
});

test('maxConnections (LAD_MAX_CONNECTIONS) overrides the derived cap; it must be a positive integer', () => {
  expect(connectionCap(config({ LAD_MAX_CONNECTIONS: '300' }), 20_000)).toBe(300);
  expect(() => config({ LAD_MAX_CONNECTIONS: '0' })).toThrow(/maxConnections \(from LAD_MAX_CONNECTIONS\)/);
});
