// The shared HTTP metrics plus what only the sandbox measures: TLS connections (to see keep-alive
// reuse), refused handshakes by reason, injected faults by kind.
import { Counter, Gauge } from 'prom-client';
import { createMetrics, type Metrics } from '../../shared/telemetry.ts';

export interface SandboxMetrics extends Metrics {
  tlsConnections: Counter<never>;
  tlsConnectionsOpen: Gauge<never>;
  tlsHandshakeFailures: Counter<'code'>;
  faultsInjected: Counter<'kind'>;
}

export function createSandboxMetrics(): SandboxMetrics {
  const base = createMetrics('bacen-sandbox');
  const registers = [base.registry];
  return {
    ...base,
    tlsConnections: new Counter({ name: 'sandbox_tls_connections_total', help: 'mTLS connections accepted (handshake completed)', registers }),
    tlsConnectionsOpen: new Gauge({ name: 'sandbox_tls_connections_open', help: 'mTLS connections open now', registers }),
    tlsHandshakeFailures: new Counter({ name: 'sandbox_tls_handshake_failures_total', help: 'refused TLS handshakes by reason', labelNames: ['code'], registers }),
    faultsInjected: new Counter({ name: 'sandbox_faults_injected_total', help: 'faults injected on the mTLS API by kind', labelNames: ['kind'], registers }),
  };
}
