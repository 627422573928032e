/**
 * The typed client covers the contract: every RPC of every mbdir.v1 service in
 * proto/mbdir/v1/mbdir.proto has its own method on MbdirClient (the RPC's name
 * in lower camel case), so an RPC added to the .proto without a client method
 * fails here by name instead of tempting a caller back to untyped calls.
 */
import { describe, expect, it } from 'vitest';
import { MbdirClient } from '../../src/client/client.js';
import { packageDefinition } from '../../src/api/proto.js';

const lowerCamel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

describe('MbdirClient', () => {
  it('has one method per RPC of Mailboxes, Placement and Cluster', () => {
    // proto-loader's message and enum definitions carry a `format`; service definitions are maps of methods.
    const isService = (name: string): boolean => !('format' in (packageDefinition[name] ?? {}));
    const services = Object.keys(packageDefinition).filter((name) => name.startsWith('mbdir.v1.') && isService(name));
    expect(services.sort()).toEqual(['mbdir.v1.Cluster', 'mbdir.v1.Mailboxes', 'mbdir.v1.Placement']);
    const missing = services.flatMap((service) =>
      Object.keys(packageDefinition[service] ?? {})
        .filter((rpc) => typeof (MbdirClient.prototype as unknown as Record<string, unknown>)[lowerCamel(rpc)] !== 'function')
        .map((rpc) => `${service}.${rpc} (MbdirClient.${lowerCamel(rpc)})`),
    );
    expect(missing).toEqual([]);
  });
});
