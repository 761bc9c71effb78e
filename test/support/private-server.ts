// A short-lived server process of the test's own (not the shared one), so a test can stop and restart it:
// `start()` spawns it and waits until its port accepts connections, `stop()` kills it and waits.
import type { Subprocess } from 'bun';
import { eventually } from '../nats/fixture.ts';

export interface PrivateServer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function privateServer(name: string, cmd: string[], port: number): PrivateServer {
  let proc: Subprocess | undefined;
  const stop = async () => {
    proc?.kill();
    await proc?.exited;
    proc = undefined;
  };
  return {
    async start() {
      proc = Bun.spawn(cmd, { stdout: 'ignore', stderr: 'ignore' });
      await eventually(`private ${name} listening`, async () => {
        try {
          (await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })).end();
          return true;
        } catch {
          return false;
        }
      });
    },
    stop,
  };
}
