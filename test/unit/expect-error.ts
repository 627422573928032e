// Shared assertion for the model tests: the call throws a DirectoryError of the
// given kind (InvalidArgument by default) whose message matches `message`.
import { expect } from 'vitest';
import { DirectoryError, type ErrorKind } from '../../src/model/errors.js';

export function expectDirectoryError(
  call: () => unknown,
  message?: RegExp | string,
  kind: ErrorKind = 'InvalidArgument',
): DirectoryError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected the call to throw').toBeInstanceOf(DirectoryError);
  const error = caught as DirectoryError;
  expect(error.kind).toBe(kind);
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

export const expectInvalid = (call: () => unknown, message?: RegExp | string): DirectoryError =>
  expectDirectoryError(call, message, 'InvalidArgument');
