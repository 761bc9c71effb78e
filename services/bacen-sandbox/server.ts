// Starts both ports from one set of deps; main.ts and the tests call this, so they run the same wiring.
import { existsSync } from 'node:fs';
import type { DevPki } from '../../shared/pki.ts';
import { readPem } from '../../shared/pki.ts';
import { createSandboxApp, createSandboxControlApp } from './app.ts';
import type { SandboxDeps } from './deps.ts';
import { startMtlsServer } from './transport/mtls.ts';
import { createMtlsHandler } from './transport/pipeline.ts';

/** The control API is for tests and operators on this machine only: never bind it elsewhere. */
export const CONTROL_HOST = '127.0.0.1';

export interface SandboxListen {
  host: string;
  /** 0 picks a free port (tests) */
  mtlsPort: number;
  controlPort: number;
}

export interface RunningSandbox {
  mtlsPort: number;
  controlPort: number;
  stop(): Promise<void>;
}

/** `pki.crl`, when the file exists, is read once at start: a re-issued CRL takes effect on restart. */
export async function startSandbox(deps: SandboxDeps, pki: Pick<DevPki, 'ca' | 'bacen'> & { crl?: string }, listen: SandboxListen): Promise<RunningSandbox> {
  const app = createSandboxApp(deps);
  const crl = pki.crl !== undefined && existsSync(pki.crl) ? { crl: readPem(pki.crl) } : {};
  const mtls = await startMtlsServer({
    host: listen.host,
    port: listen.mtlsPort,
    tls: { cert: readPem(pki.bacen.cert), key: readPem(pki.bacen.key), ca: readPem(pki.ca.cert), ...crl },
    handle: createMtlsHandler(deps, app),
    connections: deps.connections,
    logger: deps.logger,
  });
  let mtlsUp = true;
  const control = Bun.serve({
    hostname: CONTROL_HOST,
    port: listen.controlPort,
    fetch: createSandboxControlApp(deps, {
      mtls: async () => {
        if (!mtlsUp) throw new Error('mTLS port is closed');
      },
    }).fetch,
  });
  deps.logger.info({ mtlsPort: mtls.port, controlPort: control.port, host: listen.host }, 'BACEN sandbox listening');
  return {
    mtlsPort: mtls.port,
    controlPort: control.port!,
    async stop() {
      mtlsUp = false;
      await mtls.stop();
      await control.stop(true);
    },
  };
}
