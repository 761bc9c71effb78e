// The participants the sandbox knows: BACEN itself, our institution and the simulated PSPs, each with
// the certificate the dev PKI issued it. A caller whose certificate names another ISPB is refused.
import { X509Certificate } from 'node:crypto';
import type { DevPki } from '../../../shared/pki.ts';
import { readPem } from '../../../shared/pki.ts';
import { SANDBOX_PSPS } from '../../../shared/participants.ts';

export type ParticipantRole = 'bacen' | 'participant' | 'simulated-psp';

export interface RegisteredParticipant {
  ispb: string;
  name: string;
  role: ParticipantRole;
  certificatePem: string;
  serialNumber: string;
  fingerprint256: string;
}

export interface CertificateRegistry {
  byIspb(ispb: string): RegisteredParticipant | undefined;
  all(): readonly RegisteredParticipant[];
}

function entry(ispb: string, name: string, role: ParticipantRole, certPath: string): RegisteredParticipant {
  const certificatePem = readPem(certPath);
  const x509 = new X509Certificate(certificatePem);
  return { ispb, name, role, certificatePem, serialNumber: x509.serialNumber, fingerprint256: x509.fingerprint256 };
}

export function registryFromPki(pki: DevPki, ids: { ispb: string; bacenIspb: string }): CertificateRegistry {
  const list = [
    entry(ids.bacenIspb, 'Banco Central do Brasil (sandbox)', 'bacen', pki.bacen.cert),
    entry(ids.ispb, 'FluxiQ', 'participant', pki.participant.cert),
    ...SANDBOX_PSPS.map((psp) => {
      const files = pki.psps[psp.ispb];
      if (!files) throw new Error(`dev PKI has no certificate for simulated PSP ${psp.ispb}`);
      return entry(psp.ispb, psp.name, 'simulated-psp', files.cert);
    }),
  ];
  const byIspb = new Map(list.map((p) => [p.ispb, p]));
  if (byIspb.size !== list.length) throw new Error('two sandbox participants share an ISPB');
  return { byIspb: (ispb) => byIspb.get(ispb), all: () => list };
}
