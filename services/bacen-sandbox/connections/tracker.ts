// Connection-level facts the control API reports: how many mTLS connections were accepted (tests read
// it to prove keep-alive reuse) and the most recent refused handshakes with the reason.
import type { Clock } from '../../../shared/clock.ts';
import type { SandboxMetrics } from '../metrics.ts';

/** Enough to see a test's or an operator's recent failures; older ones are in the metrics. */
export const HANDSHAKE_FAILURES_KEPT_MAX = 100;

export interface HandshakeFailure {
  at: string;
  code: string;
  detail: string;
}

export interface ConnectionStats {
  acceptedTotal: number;
  open: number;
  handshakeFailuresTotal: number;
  recentHandshakeFailures: HandshakeFailure[];
}

export interface ConnectionTracker {
  accepted(): void;
  closed(): void;
  handshakeFailed(code: string, detail: string): void;
  stats(): ConnectionStats;
}

export function createConnectionTracker(clock: Clock, metrics: SandboxMetrics): ConnectionTracker {
  let acceptedTotal = 0;
  let open = 0;
  let failuresTotal = 0;
  const failures: HandshakeFailure[] = [];
  return {
    accepted() {
      acceptedTotal++;
      open++;
      metrics.tlsConnections.inc();
      metrics.tlsConnectionsOpen.set(open);
    },
    closed() {
      open--;
      metrics.tlsConnectionsOpen.set(open);
    },
    handshakeFailed(code, detail) {
      failuresTotal++;
      metrics.tlsHandshakeFailures.inc({ code });
      failures.push({ at: clock.now().toISOString(), code, detail });
      if (failures.length > HANDSHAKE_FAILURES_KEPT_MAX) failures.shift();
    },
    stats: () => ({ acceptedTotal, open, handshakeFailuresTotal: failuresTotal, recentHandshakeFailures: [...failures].reverse() }),
  };
}
