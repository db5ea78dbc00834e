import { Command } from 'commander';

const program = new Command();
program.name('lad').description('Scorpio log anomaly detector: train, score and evaluate models on log files');
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`lad: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
