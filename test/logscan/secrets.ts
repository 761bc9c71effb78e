// The sensitive values flow.ts handles and logscan.test.ts looks for in its logs.
export const SECRETS = {
  cpf: '39053344705',
  otherCpf: '11144477735',
  phone: '+5511912345678',
  email: 'segredo.cliente@example.com',
  accountNumber: '987654321',
} as const;

/** Marks of PEM key material: a log line holding either is a leak whatever key it belongs to. */
export const KEY_MARKERS = ['-----BEGIN', 'PRIVATE KEY'] as const;

/** A key's base64 in the pieces a log could hold: every full PEM body line (64 characters). */
export function keyFragments(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length >= 48 && !line.startsWith('-----'));
}
