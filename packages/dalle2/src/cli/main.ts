import * as tf from '@tensorflow/tfjs-core';
import { errorLine, UsageError } from './cli-error.js';
import { EVAL_USAGE, evalCommand } from './commands/eval.js';
import { GENERATE_USAGE, generateCommand } from './commands/generate.js';
import { INFO_USAGE, infoCommand } from './commands/info.js';
import { TRAIN_USAGE, trainCommand } from './commands/train.js';

const USAGE = `usage: dalle2 <command> [options]
commands:
  generate PROMPT...   images from text, as a grid PNG and one PNG per image
  info                 versions, backends and the model folder
  train KIND           train clip, prior or decoder from a JSON config
  eval                 score a model on the shapes prompts
Run dalle2 <command> --help for its options.`;

const COMMANDS: Record<
  string,
  { usage: string; run: (args: string[], signal: AbortSignal) => Promise<void> }
> = {
  generate: { usage: GENERATE_USAGE, run: generateCommand },
  info: { usage: INFO_USAGE, run: (args) => infoCommand(args) },
  train: { usage: TRAIN_USAGE, run: trainCommand },
  eval: { usage: EVAL_USAGE, run: evalCommand },
};

/** Runs the command line; resolves to the exit status. Every failure is one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`dalle2: unknown command '${name}'; valid: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  // Production mode: no debug checks, and no tfjs advice printed between our progress lines.
  tf.env().set('PROD', true);
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await command.run(args, controller.signal);
    return 0;
  } catch (error) {
    // parseArgs reports unknown or malformed options with a code.
    const usage =
      error instanceof UsageError || String((error as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`dalle2 ${name}: ${errorLine(error)}\n`);
    if (controller.signal.aborted) return 130;
    return usage ? 2 : 1;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

const fail = (error: unknown) => {
  process.stderr.write(`dalle2: ${errorLine(error)}\n`);
  process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, fail);
