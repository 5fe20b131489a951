/** The `yifang` command line: thin commands that call the modules. */
import { Command } from 'commander';
import { registerPlatformCommands } from './platform-commands.js';

const program = new Command();
program
  .name('yifang')
  .description('Yifang (医防): district platform joining medical care and disease prevention')
  .version('0.1.0')
  .showHelpAfterError();

registerPlatformCommands(program);

const optional: [string, string][] = [
  ['./detect.js', 'registerDetectCommand'],
  ['./simulate.js', 'registerSimulateCommand'],
];
for (const [file, fn] of optional) {
  const mod = (await import(file)) as Record<string, (p: Command) => void>;
  mod[fn]!(program);
}

await program.parseAsync(process.argv);
