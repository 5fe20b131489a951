/** Test support: runs one registered CLI command in-process and captures its output and exit code. */
import { Command, CommanderError } from 'commander';

export async function runCommand(
  register: (program: Command) => void,
  name: string,
  args: string[],
): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const program = new Command('yifang');
  program.exitOverride();
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  register(program);
  try {
    await program.parseAsync([name, ...args], { from: 'user' });
    return { out, err, code: 0 };
  } catch (e) {
    if (e instanceof CommanderError) return { out, err, code: e.exitCode };
    throw e;
  }
}
