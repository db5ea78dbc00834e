// force timezone to UTC to allow tests to work regardless of local timezone
process.env.TZ = 'UTC';

const scaffold = require('./.config/jest.config');

// swc for TypeScript and for the ESM-only packages (lowdb, steno) the backend requires.
const swcNode = [
  '@swc/jest',
  { sourceMaps: 'inline', jsc: { parser: { syntax: 'typescript', tsx: false }, target: 'es2022' }, module: { type: 'commonjs' } },
];

// Generous per-test timeouts: CI shares 2 cores between jsdom rendering, Chromium, Prometheus and rsyslog.
// Speed is measured by `npm run bench`, never by these limits.
const testTimeout = 30000;

module.exports = {
  testTimeout,
  projects: [
    {
      // The Grafana plugin front end: the scaffold's jsdom config, plus .mjs (d3-color ships it).
      ...scaffold,
      displayName: 'plugin',
      transform: { ...scaffold.transform, '^.+\\.mjs$': scaffold.transform['^.+\\.(t|j)sx?$'] },
    },
    {
      // The backend service and the end-to-end tests: plain node.
      displayName: 'backend',
      testEnvironment: 'node',
      roots: ['<rootDir>/backend', '<rootDir>/tests'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      transform: { '^.+\\.(t|j|mj)s$': swcNode },
      transformIgnorePatterns: ['/node_modules/(?!(lowdb|steno)/)'],
    },
  ],
};
