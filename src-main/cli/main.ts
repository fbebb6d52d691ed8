#!/usr/bin/env node
import { toErrorBody } from '../contract/errors.ts';
import { packageVersion } from '../platform/resources.ts';
import { type Command, runCommand } from './command.ts';
import { classify } from './commands/classify.ts';
import { evaluate, inspect, modelAdapt, modelExport, modelImport, modelList, modelOptimize, modelPromote, modelRollback, train, weightsDownload, weightsImport } from './commands/models.ts';
import { datasetExport, datasetImport, datasetList, datasetShow } from './commands/dataset.ts';
import { gc } from './commands/gc.ts';
import { auditExport, historyExport } from './commands/history.ts';
import { projectCreate, projectList } from './commands/project.ts';
import { watch } from './commands/watch.ts';
import { station } from './commands/station.ts';

const commands: Command[] = [
  projectCreate, projectList, datasetImport, datasetExport, datasetList, datasetShow, weightsImport, weightsDownload, train, evaluate, inspect, watch, modelList, modelPromote, modelOptimize, modelAdapt, modelRollback, modelExport, modelImport, historyExport, auditExport, gc, classify, station,
];

function help(): string {
  return [
    'usage: argus <command> [options]   (every command takes --data-dir DIR and --json)',
    '       argus --version',
    '',
    ...commands.map((c) => `  ${c.usage}\n      ${c.summary.split('\n')[0]}`),
    '',
    'The data directory defaults to $ARGUS_DATA_DIR, else the app\'s user-data folder.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === 'version') {
    process.stdout.write(`argus ${packageVersion()}\n`);
    return 0;
  }
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`${help()}\n`);
    return 0;
  }
  const command = commands.find((c) => {
    const words = c.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  });
  if (!command) {
    process.stderr.write(`argus: unknown command "${argv.slice(0, 2).join(' ')}". Run "argus help".\n`);
    return 2;
  }
  try {
    await runCommand(command, argv.slice(command.name.split(' ').length));
    return 0;
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`argus: ${(error as Error).message.split('\n')[0]} (see "argus ${command.name} --help")\n`);
      return 2;
    }
    const body = toErrorBody(error);
    process.stderr.write(`argus: ${body.message}\n`);
    return body.code === 'invalid_argument' ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
