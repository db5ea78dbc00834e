// The `lad` commands and their options. These forms are a contract other tools use (docs/engine.md): keep
// them stable.

import { Command, Option } from 'commander';
import { DEFAULT_INCIDENT_GAP_LINES } from '../engine';
import { runEval } from './eval-command';
import { runScore } from './score-command';
import { runTemplates } from './templates-command';
import { runTrain } from './train-command';
import { addModelOptions, collect, numberArg } from './options';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lad')
    .description('Scorpio log anomaly detector: train, score and evaluate models on log files')
    .showHelpAfterError('(run with --help for usage)');

  addModelOptions(
    program
      .command('train')
      .description('train a model on log files and save it to a directory')
      .requiredOption('--input <file>', 'log file to train on; repeat for several; - reads stdin', collect)
      .requiredOption('--model <dir>', 'directory to write the model to')
      .option('--normal <file>', 'lines marked false positive, trained on as normal; repeatable', collect),
  ).action(runTrain);

  program
    .command('score')
    .description('score every line of a log file with a saved model')
    .requiredOption('--model <dir>', 'model directory written by lad train')
    .option('--input <file>', 'log file to score; - reads stdin', '-')
    .addOption(new Option('--format <format>', 'jsonl: one object per line; text: anomalies for people').choices(['jsonl', 'text']).default('jsonl'))
    .option('--output <file>', 'write here instead of stdout')
    .option(
      '--incident-gap <lines>',
      'anomalies of one template at most this many lines apart are one incident (0: every anomalous line is one)',
      numberArg('--incident-gap', { int: true, min: 0 }),
      DEFAULT_INCIDENT_GAP_LINES,
    )
    .action(runScore);

  addModelOptions(
    program
      .command('eval')
      .description('train on the first part of a labelled file, score the rest, print detection quality')
      .requiredOption('--input <file>', 'labelled log file; repeat for several', collect)
      .addOption(
        new Option('--labels <mode>', "first-field: the first field is the label ('-' = normal), stripped; none: unlabelled, all normal")
          .choices(['first-field', 'none'])
          .default('first-field'),
      )
      .option('--train-fraction <f>', 'share of lines to train on', numberArg('--train-fraction', { min: 0.01, max: 0.99 }), 0.5)
      .option('--detectors <list>', 'comma-separated subset of combined,w2v-som,rarity (default: all)')
      .option('--feedback <counts>', 'replay N answers to the review queue (comma-separated, e.g. 0,5,20,50) and print the figures after each')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text')),
  ).action(async (o) => {
    await runEval(o);
  });
  program
    .command('templates')
    .description('print the templates mined from a log file, most frequent first, with counts and an example')
    .requiredOption('--input <file>', 'log file; - reads stdin')
    .addOption(new Option('--format <format>', 'text: for people; jsonl: {"template","count","example"} per line').choices(['text', 'jsonl']).default('text'))
    .option('--limit <n>', 'print at most this many templates', numberArg('--limit', { int: true, min: 1 }))
    .option('-q, --quiet', 'no progress or summary on stderr')
    .action(runTemplates);
  return program;
}

