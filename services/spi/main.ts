// Wires the real dependencies into createSpiApp, serves it on SPI_PORT and starts the workers
// (position load, recovery of open payments, inbox pollers, webhook delivery).
//
// Several spi instances run active/standby, not active/active: the ledger's holds and positions and the
// open payments (engine.ts `open`, accounts/ledger-authority.ts) live in the process's memory on the payment
// path, so two serving instances could each reserve the same balance, and a pacs.002 pulled from the inbox
// by one would not find the payment the other opened. Exactly one instance holds the SPI_ACTIVE_LEASE
// (shared/lease.ts); only it loads positions, recovers open payments from Postgres (re-sending the same
// signed pacs.008), runs the pollers, sweeper and resolver, and serves HTTP. The others connect their
// dependencies and wait for the lease without serving (shared/service.ts `standby`). A graceful stop drains
// HTTP, waits for in-flight requests, stops the pollers (an in-flight long poll is finished and handled) and
// the engine, then unlocks: a standby takes over within LEASE_POLL_MS. A crash (kill -9) ends the lease's
// session, so Postgres lets the lock go at once. Active/active would need the holds in Postgres or Redis
// (an atomic reserve per account) and each pacs.002 routed to the instance owning its payment (or the open
// payments shared), so that any instance may decide any payment.
import type { Config } from '../../shared/config.ts';
import { startLease } from '../../shared/lease.ts';
import { EXIT_RESTART_NOW } from '../../shared/runtime.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createSpiApp } from './app.ts';
import { wireSpiDeps } from './wiring.ts';

/** The lease the active spi instance holds (scoped to DB_SCHEMA by startLease). */
export const SPI_ACTIVE_LEASE = 'spi.active';
/**
 * On a graceful handover the active instance, no longer taking requests, waits at most this long for the
 * pacs.002 of its SENT payments (they come within tens of ms at SPI's pace) before it stops its pollers, so
 * the next active one has few to re-send. What is still open then (TIMED_OUT ones wait for the resolver) is
 * recovered from Postgres by the next active instance. Short: spi serves nobody until the handover ends.
 */
export const SPI_HANDOVER_DECISIONS_MS_MAX = 1_000;
const HANDOVER_POLL_MS = 20;
/** A fenced instance (lease lost) gives its pollers and sweeper this long to stop before it exits regardless. */
export const SPI_FENCE_STOP_MS_MAX = 2_000;
/** ... then waits at most this long for Postgres to answer again before exiting (the usual cause of a lost
 *  lease is a Postgres restart: exiting at once would crash-loop through the supervisor's growing backoff). */
export const SPI_REJOIN_WAIT_MS_MAX = 60_000;
const REJOIN_POLL_MS = 50;

/** Resolves once `select 1` answers, or after `maxMs`. */
async function untilPostgresAnswers(sql: { (strings: TemplateStringsArray): Promise<unknown> }, maxMs: number): Promise<boolean> {
  const until = performance.now() + maxMs;
  while (performance.now() < until) {
    const ok = await Promise.race([sql`select 1`.then(() => true, () => false), Bun.sleep(1_000).then(() => false)]);
    if (ok) return true;
    await Bun.sleep(REJOIN_POLL_MS);
  }
  return false;
}

export async function run(config: Config): Promise<void> {
  const base = await connectServiceDeps('spi', config);
  const wiring = await wireSpiDeps(base);
  const app = createSpiApp(wiring.deps);
  let stopping = false;
  const serving = serveApp(app, base, config.spiPort, async () => {
    stopping = true;
    // stops the runtime (the lease's work) and only then unlocks
    await active.stop();
    await wiring.close();
  }, { standby: true });
  const active = startLease(config, base.logger, SPI_ACTIVE_LEASE, async () => {
    // positions and open payments are loaded before the port opens: no order is decided on empty positions
    try {
      await app.runtime.start();
    } catch (err) {
      // a runtime half started (positions loaded, some workers running) is not started twice: this process
      // exits and the supervisor starts a fresh one, which waits for the lease like any standby
      base.logger.fatal({ err }, 'spi could not start as the active instance; exiting');
      process.exit(1);
    }
    serving.activate();
    return async () => {
      if (!stopping) {
        // the lock is no longer ours (Postgres restarted, or unreachable from the lease's session): a standby
        // may already be recovering our open payments, so this process stops taking requests and deciding at
        // once (fenced: the gateway sends requests again elsewhere), then — once Postgres answers, so the new
        // process does not crash-loop through the supervisor's backoff — exits to be started again at once
        // with empty memory, as a standby that takes the lease if nobody else did
        serving.fence();
        base.logger.error('spi lost its active lease: fenced (no requests, no decisions); restarting once Postgres answers');
        await Promise.race([app.runtime.stop().catch(() => {}), Bun.sleep(SPI_FENCE_STOP_MS_MAX)]);
        const back = await untilPostgresAnswers(base.sql, SPI_REJOIN_WAIT_MS_MAX);
        base.logger.warn({ postgres: back ? 'answering' : 'still down' }, 'spi restarting after losing its lease');
        process.exit(EXIT_RESTART_NOW);
      }
      const { engine } = app.runtime;
      const sentOpen = () => engine.openCount - engine.timedOut(base.clock.nowMs(), engine.openCount).length;
      const until = performance.now() + SPI_HANDOVER_DECISIONS_MS_MAX;
      while (sentOpen() > 0 && performance.now() < until) await Bun.sleep(HANDOVER_POLL_MS);
      if (sentOpen() > 0) base.logger.info({ sent: sentOpen() }, 'handing over with payments still waiting for their pacs.002: the next active instance re-sends them');
      await app.runtime.stop();
    };
  }, { registry: base.metrics.registry });
}
