/**
 * The HTTP contract between the Scorpio backend and its Grafana plugin, in zod, defined once. The backend
 * validates requests and types its responses with it; the plugin (src/shared/contract.ts re-exports this module)
 * parses every response with it. It is bundled into the browser: no Node imports (eslint enforces it, and
 * tests/contract.test.ts checks it).
 */
export * from './context';
export * from './feedback';
export * from './frames';
export * from './health';
export * from './params';
export * from './query';
export * from './review';
export * from './sources';
export * from './time';
