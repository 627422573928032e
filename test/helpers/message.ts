/**
 * A message as a plain record, for the tests that build a request field by
 * field (often a malformed one, to see the server refuse it) or read a field by
 * name. Answers of the typed client come as the generated `__Output` types;
 * a test reads them as they are and never casts them to this.
 */
export type Message = Record<string, unknown>;
