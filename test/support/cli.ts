import { Command } from 'commander';
import { vi } from 'vitest';

/**
 * Runs `pawket ARGS --data-dir DIR` in this process with the commands `register` adds; answers what it printed and the
 * exit code it set (restored afterwards).
 */
export async function runPawket(
  register: (program: Command) => void,
  dataDir: string,
  args: readonly string[],
): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command('pawket').exitOverride();
  register(program);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'pawket', ...args, '--data-dir', dataDir]);
    return { stdout, stderr, code: Number(process.exitCode ?? 0) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = before;
  }
}
