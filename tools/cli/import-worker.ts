/**
 * The import's parsing thread: chunks of whole dump lines (UTF-8 bytes,
 * transferred, not copied) in, `ParsedChunk`s out, in the order they came.
 * It parses and packs only; it never opens the data directory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseDumpChunk, type ImportOptions } from './import-parse.js';

/** A chunk to parse, as import-pipeline.ts sends it. */
export interface ChunkRequest {
  bytes: Uint8Array;
}

const options = (workerData as { options: ImportOptions }).options;
// ignoreBOM: a byte-order mark stays in the text, as the line-at-a-time import's StringDecoder keeps it.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

parentPort?.on('message', (request: ChunkRequest) => {
  parentPort?.postMessage(parseDumpChunk(decoder.decode(request.bytes), options));
});
