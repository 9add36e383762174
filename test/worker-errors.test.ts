import { expose, wrap, type Remote } from 'comlink';
import { afterAll, describe, expect, test } from 'vitest';
import { NotADeltaTableError } from '../src/delta/errors.ts';
import { CancelledError } from '../src/pipeline/context.ts';
import { withContext } from '../src/worker/errors.ts';
import { carryErrors, errorCode, WorkerError } from '../src/worker/protocol.ts';

/** The worker's error path over a real MessageChannel: withContext on one side, comlink between. */
const api = {
  run: withContext('running the pipeline', async () => {
    throw new CancelledError();
  }),
  table: withContext('reading a table’s log', async () => {
    throw new NotADeltaTableError('lake/nothing is not a Delta table (it has no _delta_log commits)');
  }),
  plain: withContext('listing files', async () => {
    throw new Error('disk on fire', { cause: new Error('it is hot') });
  }),
  async raw(): Promise<never> {
    throw 'not an Error';
  },
};

const channel = new MessageChannel();
carryErrors();
expose(api, channel.port1);
const remote: Remote<typeof api> = wrap<typeof api>(channel.port2);

afterAll(() => {
  channel.port1.close();
  channel.port2.close();
});

const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => expect.unreachable('the call succeeded'),
    (err: unknown) => err,
  );

describe('errors across the worker boundary', () => {
  test('a cancelled run arrives with its name and code', async () => {
    const err = await failure(remote.run());
    expect(err).toBeInstanceOf(WorkerError);
    expect([(err as Error).name, errorCode(err), (err as Error).message]).toEqual([
      'CancelledError',
      CancelledError.code,
      'running the pipeline: the run was cancelled; every table is still at its last committed version',
    ]);
  });

  test('a Delta refusal keeps its code and its delta: message', async () => {
    const err = await failure(remote.table());
    expect([(err as Error).name, errorCode(err), (err as Error).message]).toEqual([
      'NotADeltaTableError',
      'NOT_A_DELTA_TABLE',
      'reading a table’s log: delta: lake/nothing is not a Delta table (it has no _delta_log commits)',
    ]);
  });

  test('an error without a code has none on the page, and its causes are in the message', async () => {
    const err = await failure(remote.plain());
    expect([(err as Error).name, errorCode(err), (err as Error).message]).toEqual(['Error', undefined, 'listing files: disk on fire — it is hot']);
  });

  test('a thrown value that is no Error arrives as it was', async () => {
    expect(await failure(remote.raw())).toBe('not an Error');
  });
});
