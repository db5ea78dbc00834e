import { ConfigError, loadConfig } from '../../backend/server/config';

/** Cluster settings keep the names other tools start clusters with (issue 11). */
describe('cluster configuration', () => {
  test('no settings: embedded mode with all three roles, nothing cluster-specific required', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('embedded');
    expect(config.roles).toEqual(['ingest', 'score', 'query']);
    expect(config.cluster).toEqual({ leaseSeconds: 10 });
  });

  test('LAD_MODE, LAD_ROLES, LAD_NATS_URL, LAD_POSTGRES_URL, LAD_LEASE_SECONDS', () => {
    const config = loadConfig({
      LAD_MODE: 'cluster',
      LAD_ROLES: 'score, query',
      LAD_NATS_URL: 'nats://127.0.0.1:4222',
      LAD_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      LAD_LEASE_SECONDS: '3',
    });
    expect(config.mode).toBe('cluster');
    expect(config.roles).toEqual(['score', 'query']);
    expect(config.cluster).toEqual({ natsUrl: 'nats://127.0.0.1:4222', postgresUrl: 'postgres://postgres@127.0.0.1:5432/postgres', leaseSeconds: 3 });
  });

  test.each([
    [{ LAD_MODE: 'cluster', LAD_POSTGRES_URL: 'postgres://127.0.0.1/postgres' }, 'cluster.natsUrl', /LAD_NATS_URL/],
    [{ LAD_MODE: 'cluster', LAD_NATS_URL: 'nats://127.0.0.1:4222' }, 'cluster.postgresUrl', /LAD_POSTGRES_URL/],
  ])('cluster mode without a URL names the field: %j', (env, field, envName) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${field} is required in cluster mode`);
    expect((error as Error).message).toMatch(envName);
  });

  test('unknown mode or role is refused naming the key', () => {
    expect(() => loadConfig({ LAD_MODE: 'swarm' })).toThrow(/mode \(from LAD_MODE\)/);
    expect(() => loadConfig({ LAD_ROLES: 'ingest,train' })).toThrow(/roles\.1 \(from LAD_ROLES\)/);
    expect(() => loadConfig({ LAD_ROLES: ' , ' })).toThrow(/roles.*at least one/);
  });
});
