/**
 * A rebalance plan larger than one gRPC message (long user names, a big
 * drain) is cut to what fits instead of being refused whole by grpc-js with
 * RESOURCE_EXHAUSTED; `total` still says how many moves the plan holds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { planAnswerListsBytesMax, plannedMoveBytes, planWithinMessage, type WirePlannedMove } from '../../src/server/grpc/plan-message.js';
import { services } from '../../src/api/proto.js';
import { runCli, startServer } from '../helpers/server-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'mbdir-plan-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const serializePlan = (services.Placement.service['PlanRebalance'] as { responseSerialize(value: object): Buffer }).responseSerialize;

/** A user id of the longest length the directory takes, unique by `index`. */
function longUser(index: number): string {
  return `u${String(index).padStart(6, '0')}${'x'.repeat(limits.userIdBytesMax - 7)}`;
}

function move(index: number, moving: boolean, business = ''): WirePlannedMove {
  return { user: longUser(index), from_server: 'old', to_server: 'up1', reason: 'draining', business, moving };
}

describe('a plan answer within one gRPC message', () => {
  it("counts a move's bytes as protobuf encodes them", () => {
    const moves = [move(1, false), move(2, true, 'b1'), { ...move(3, false), user: 'ü'.repeat(100) }];
    const staleMoving = ['carol', 'd'.repeat(200)];
    const encoded = serializePlan({ moves, stale_moving: staleMoving }).length;
    const counted = moves.reduce((sum, each) => sum + plannedMoveBytes(each), 0) + (2 + 5) + (3 + 200);
    expect(encoded).toBe(counted);
    // Stale marks first (7 + 203 bytes), then the moves that fit in what is left.
    const cut = planWithinMessage(moves, staleMoving, 7 + 203 + plannedMoveBytes(moves[0] as WirePlannedMove) + plannedMoveBytes(moves[1] as WirePlannedMove) + 5);
    expect(cut).toEqual({ moves: moves.slice(0, 2), staleMoving });
    expect(planWithinMessage(moves, staleMoving, 7 + 202)).toEqual({ moves: [], staleMoving: ['carol'] });
  });

  it('answers the moves that fit from a node whose plan is larger than 4 MiB, and the total of them all', async () => {
    const users = 17_000;
    const lines = ['{'];
    for (let index = 0; index < users; index += 1) {
      const name = `user.${longUser(index)}`;
      lines.push(`${JSON.stringify(name)}: {"name": ${JSON.stringify(name)}, "mbtype": "e", "partition": "default", "acl": {}},`);
    }
    lines.push('}', '');
    const dump = join(scratch, 'long-users.json');
    writeFileSync(dump, lines.join('\n'));
    const dataDir = join(scratch, 'node');
    const imported = await runCli(['import', dump, '--data-dir', dataDir, '--server', 'old', '--register-servers']);
    expect(imported.code, imported.stderr).toBe(0);

    const node = await startServer([], { dataDir });
    try {
      const client = node.client();
      await client.putServer({ name: 'up1', imap_address: '127.0.0.1:1143' });
      await client.putServer({ name: 'old', state: 'DRAINING', imap_address: '127.0.0.1:2143' });
      const plan = await client.planRebalance({ max_users: limits.planUsersMax });
      const moves = plan['moves'];
      expect(plan['total']).toBe(users);
      // grpc-js refuses a message over the bound on sending and on receiving: the answer came, so it fit.
      // It is also full: one more move of the same size would not have fit (about 15,000 of 17,000 here).
      const answered = moves.map((each) => ({ ...move(0, false), ...each }) as WirePlannedMove);
      const used = answered.reduce((sum, each) => sum + plannedMoveBytes(each), 0);
      expect(moves.length).toBeLessThan(users);
      expect(used + plannedMoveBytes(answered[0] as WirePlannedMove)).toBeGreaterThan(planAnswerListsBytesMax);
      expect(moves[0]).toMatchObject({ from_server: 'old', to_server: 'up1', reason: 'draining' });
      expect(new Set(moves.map((each) => each['user'])).size).toBe(moves.length);
    } finally {
      await node.stop();
    }
  });
});
