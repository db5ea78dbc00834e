import { decodeJson, leaseValueSchema } from './ports';

describe('decodeJson', () => {
  it('reads a message of the schema', () => {
    expect(decodeJson(leaseValueSchema, '{"worker":"w1","renewedAt":5}')).toEqual({ worker: 'w1', renewedAt: 5 });
  });

  it('gives null for text that is not JSON, or JSON of another shape, instead of throwing', () => {
    expect(decodeJson(leaseValueSchema, '{"worker":')).toBeNull();
    expect(decodeJson(leaseValueSchema, '{"worker":1}')).toBeNull();
    expect(decodeJson(leaseValueSchema, 'null')).toBeNull();
  });
});
