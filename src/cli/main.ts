/** The `yifang` command line: thin commands that call the modules. */
import { Command } from 'commander';
import { registerDetectCommand } from './detect.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerSimulateCommand } from './simulate.js';
import { registerSurveillanceCommands } from './surveillance.js';
import { registerFeedCommands } from './feeds.js';
import { registerPlatformCommands } from './platform-commands.js';
import { registerChronicCommands } from './chronic.js';
import { registerIdentityCommands } from './identity.js';
import { registerAuditCommands } from './audit.js';
import { registerRegistryCommands } from './registry.js';
import { registerLabCommands } from './lab.js';
import { registerProgrammeCommands } from './programmes.js';
import { registerMonthlyReportCommand } from '../monthly-report/index.js';
import { openDefaultStore } from './store.js';

const program = new Command();
program
  .name('yifang')
  .description('Yifang (医防): district platform joining medical care and disease prevention')
  .version('0.1.0')
  .showHelpAfterError();

registerPlatformCommands(program);
registerDetectCommand(program);
registerEvaluateCommand(program);
registerSimulateCommand(program);
registerSurveillanceCommands(program);
registerFeedCommands(program);
registerChronicCommands(program);
registerIdentityCommands(program);
registerAuditCommands(program);
registerRegistryCommands(program);
registerLabCommands(program);
registerProgrammeCommands(program);
registerMonthlyReportCommand(program, { openStore: openDefaultStore });

await program.parseAsync(process.argv);
