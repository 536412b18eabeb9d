import { ChangeStreamError } from '../errors.js';

/** A write refused by the embedded store (duplicate key 11000, bad update document, ...). */
export class WriteError extends ChangeStreamError {
  constructor(code: number, message: string) {
    super(code, message);
    this.name = 'WriteError';
  }
}
