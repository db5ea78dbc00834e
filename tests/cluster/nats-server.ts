/** The throwaway JetStream server lives in backend/testing (benchmarks start one too). */
export * from '../../backend/testing/nats-server';
