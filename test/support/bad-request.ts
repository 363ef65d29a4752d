import { expect } from 'vitest';
import { PawketError } from '../../src/errors.js';

function messageOf400(error: unknown): string {
  expect(error).toBeInstanceOf(PawketError);
  expect((error as PawketError).status).toBe(400);
  return (error as PawketError).message;
}

/** Expects `fn` to throw a PawketError 400 and returns its message (what a client would show). */
export function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return messageOf400(error);
  }
  throw new Error('expected a 400, got success');
}

/** Expects the promise to reject with a PawketError 400 and returns its message. */
export async function badRequestMessageOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error('expected a 400, got success'),
    (e: unknown) => e,
  );
  return messageOf400(error);
}
