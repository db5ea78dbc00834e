/** The throwaway PostgreSQL lives in backend/testing (benchmarks start one too). */
export * from '../../backend/testing/postgres-server';
