/**
 * What /api/health calls a problem (status "degraded"): a spool that cannot write (pushes refused), a spool that
 * cannot checkpoint (lines kept), a results store that cannot write; nothing when both are fine.
 */
import { healthProblems } from './health';

test('no failure, no problem', () => {
  expect(healthProblems(null, null)).toEqual([]);
});

test('each failing store is named with its reason and what it means', () => {
  expect(healthProblems(null, 'spool write: ENOSPC: no space left on device')).toEqual(['spool cannot write, pushes are answered 503: spool write: ENOSPC: no space left on device']);
  expect(healthProblems(null, 'spool checkpoint: EIO')).toEqual(['spool cannot record how far its lines are scored, so it keeps them (and grows): spool checkpoint: EIO']);
  const both = healthProblems('writing results: ENOSPC', 'spool write: ENOSPC');
  expect(both).toHaveLength(2);
  expect(both[1]).toBe('results store cannot write, recent results may be missing and their lines stay spooled: writing results: ENOSPC');
});
