// The miner's saved form (templates.json in a model directory), validated when read back.

import { z } from 'zod';
import { minerConfigSchema } from './config';

export const minerStateSchema = z.object({
  version: z.number().int(),
  config: minerConfigSchema,
  nextId: z.number().int().min(1),
  evicted: z.number().int().min(0),
  clusters: z.array(
    z.object({
      id: z.number().int().min(1),
      tokens: z.array(z.string()),
      size: z.number().min(0),
      values: z.array(z.tuple([z.number().int().min(0), z.array(z.string()).nullable()])),
    }),
  ),
});

export type MinerState = z.output<typeof minerStateSchema>;
