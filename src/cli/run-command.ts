import { PawketError } from '../errors.js';

/**
 * Opens what a command works on, runs the command and closes it again. A PawketError (bad input, an unknown name)
 * prints its message and sets exit code 1; anything else is a bug and propagates.
 */
export async function runCommand<T>(open: () => Promise<T>, run: (opened: T) => Promise<unknown>, close: (opened: T) => Promise<void>): Promise<void> {
  let opened: { value: T } | undefined;
  try {
    opened = { value: await open() };
    await run(opened.value);
  } catch (err) {
    if (!(err instanceof PawketError)) throw err;
    process.stderr.write(`pawket: ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    if (opened) await close(opened.value);
  }
}
