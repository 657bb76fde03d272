import { main } from './cli.js';
import './commands.js';

/** Entry used by bin/pxekit.js: runs the CLI and exits with its code. */
export async function runCli(argv: string[]): Promise<void> {
  const code = await main(argv);
  process.exitCode = code;
  // Listeners are closed by now; exit explicitly so a stray timer cannot keep the process alive.
  setTimeout(() => process.exit(code), 200).unref();
}
