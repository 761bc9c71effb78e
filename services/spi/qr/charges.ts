// Charges behind dynamic BR Codes (cob: immediate with expiry; cobv: with a due date), their payload as a
// JWS signed with our key, and reading a payload another PSP (or we) serve, before a payment or preview.
import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import { formatAmount } from '../../../shared/money.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import { chargeExpired, checkChargePayload, signJws, verifyJws, type ChargePayload } from '../../../shared/spi/jws.ts';
import { X509Certificate } from 'node:crypto';

/** Fetching a payload on the payment path must be quick; past this the payment is refused. */
export const PAYLOAD_FETCH_TIMEOUT_MS = 3_000;
export const PAYLOAD_BYTES_MAX = 64 * 1024;

const TXID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function newChargeTxid(length = 32): string {
  let out = '';
  for (const b of randomBytes(length * 2)) if (b < 248 && out.length < length) out += TXID_ALPHABET[b % 62];
  return out;
}

export interface ChargeRow {
  txid: string; kind: 'cob' | 'cobv'; pix_key: string; amount_centavos: bigint; payee_name: string; payee_city: string; payee_tax_id: string | null;
  payer_tax_id: string | null; payer_name: string | null; due_date: Date | null; expires_in_s: number; revision: number; status: string;
  paid_end_to_end_id: string | null; created_at: Date;
}

export function payloadOf(c: ChargeRow): ChargePayload {
  const criacao = c.created_at.toISOString();
  return {
    revisao: c.revision,
    calendario: c.kind === 'cob'
      ? { criacao, apresentacao: criacao, expiracao: c.expires_in_s }
      : { criacao, apresentacao: criacao, dataDeVencimento: c.due_date!.toISOString().slice(0, 10), validadeAposVencimento: Math.max(0, Math.floor(c.expires_in_s / 86_400)) },
    txid: c.txid,
    status: c.status as ChargePayload['status'],
    valor: { original: formatAmount(c.amount_centavos) },
    chave: c.pix_key,
    ...(c.payer_tax_id ? { devedor: { [c.payer_tax_id.length === 11 ? 'cpf' : 'cnpj']: c.payer_tax_id, ...(c.payer_name ? { nome: c.payer_name } : {}) } } : {}),
    recebedor: { nome: c.payee_name, ...(c.payee_tax_id ? { [c.payee_tax_id.length === 11 ? 'cpf' : 'cnpj']: c.payee_tax_id } : {}) },
  };
}

export function signedPayload(c: ChargeRow, keyPem: string, certPem: string): string {
  const der = new X509Certificate(certPem).raw.toString('base64');
  return signJws(payloadOf(c), keyPem, { x5c: [der] });
}

export interface FetchedCharge {
  payload: ChargePayload;
  expired: boolean;
  paid: boolean;
}

/**
 * GET https://<url> → JWS, verified with the certificate in its x5c header, which must be issued by a CA
 * we trust (ICP-Brasil in production, the dev CA here).
 */
export async function fetchCharge(url: string, opts: { scheme: 'https' | 'http'; trustedCaPem: string; clock: Clock }): Promise<Result<FetchedCharge>> {
  let text: string;
  try {
    const res = await fetch(`${opts.scheme}://${url}`, { signal: AbortSignal.timeout(PAYLOAD_FETCH_TIMEOUT_MS), redirect: 'manual', tls: { ca: opts.trustedCaPem } } as RequestInit);
    if (res.status === 404 || res.status === 410) return fail('NotFound', `the charge at ${url} does not exist (HTTP ${res.status})`, 'brCode', 'payload');
    if (!res.ok) return fail('ServiceUnavailable', `the charge location answered HTTP ${res.status}`);
    text = await res.text();
  } catch (e) {
    return fail('ServiceUnavailable', `could not fetch the charge at ${url}: ${(e as Error).message}`);
  }
  if (text.length > PAYLOAD_BYTES_MAX) return fail('InvalidRequest', 'the charge payload is too large', 'brCode', 'payload');
  const header = (() => {
    try { return JSON.parse(Buffer.from(text.split('.')[0] ?? '', 'base64url').toString('utf8')) as { x5c?: string[] }; } catch { return null; }
  })();
  const der = header?.x5c?.[0];
  if (!der) return fail('RequestSignatureInvalid', 'the charge JWS carries no x5c certificate', 'brCode', 'signature');
  let certPem: string;
  try {
    const cert = new X509Certificate(Buffer.from(der, 'base64'));
    if (!cert.verify(new X509Certificate(opts.trustedCaPem).publicKey)) return fail('RequestSignatureInvalid', 'the charge certificate is not issued by a trusted CA', 'brCode', 'signature');
    certPem = cert.toString();
  } catch {
    return fail('RequestSignatureInvalid', 'the charge certificate is unreadable', 'brCode', 'signature');
  }
  const verified = verifyJws(text.trim(), certPem);
  if (!verified.ok) return verified;
  const payload = checkChargePayload(verified.value.payload);
  if (!payload.ok) return payload;
  return ok({ payload: payload.value, expired: chargeExpired(payload.value, opts.clock.now()), paid: payload.value.status === 'CONCLUIDA' });
}

export async function loadCharge(sql: Sql<{ bigint: bigint }>, txid: string): Promise<ChargeRow | null> {
  const rows = await sql<ChargeRow[]>`select * from spi_charges where txid = ${txid}`;
  return rows[0] ?? null;
}
