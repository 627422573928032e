/** The MUPDATE client the bench uses (tools/bench/mupdate-client.ts), re-exported for the interop tests. */
export { MupdateClient, type MupdateEntry } from '../../tools/bench/mupdate-client.js';
