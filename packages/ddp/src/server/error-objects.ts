import { DDPError, type DDPErrorObject } from '../errors.js';

/** What the client sees for anything thrown that is not a `DDPError` (details stay on the server). */
export const INTERNAL_ERROR: DDPErrorObject = {
  error: 500,
  reason: 'Internal server error',
  message: 'Internal server error [500]',
  errorType: 'Meteor.Error',
};

/** The wire form of something thrown by user code: `DDPError`s go through, the rest is hidden. */
export function clientErrorObject(error: unknown): DDPErrorObject {
  return error instanceof DDPError ? error.toErrorObject() : INTERNAL_ERROR;
}
