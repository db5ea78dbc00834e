// The HTTP contract is defined once, in backend/contract (zod, no Node imports), and shared with the backend: the
// plugin validates every response with these schemas where it enters the browser, so a backend of another version
// fails with a readable message instead of a blank panel.
export * from '../../backend/contract';
