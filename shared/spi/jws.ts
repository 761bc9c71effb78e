// The payload a dynamic BR Code's URL returns (bacen/pix-api): the charge (`cob` immediate, `cobv` with due
// date) as a compact JWS, RS256 (RSASSA-PKCS1-v1_5 over SHA-256), signed with the PSP's key and verified by
// the payer's PSP before showing anything. node:crypto does the RSA; this file does the JOSE framing and
// the payload rules.
import { createPrivateKey, createPublicKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { fail, ok, type Result } from '../result.ts';

export const CHARGE_TXID_RE = /^[a-zA-Z0-9]{26,35}$/;
const AMOUNT_RE = /^(0|[1-9]\d{0,15})\.\d{2}$/;
/** a charge payload is a few hundred bytes; refuse anything absurd before decoding */
export const JWS_LENGTH_MAX = 64 * 1024;

export interface ChargePayload {
  revisao: number;
  calendario: { criacao: string; apresentacao: string; expiracao?: number; dataDeVencimento?: string; validadeAposVencimento?: number };
  txid: string;
  status: 'ATIVA' | 'CONCLUIDA' | 'REMOVIDA_PELO_USUARIO_RECEBEDOR' | 'REMOVIDA_PELO_PSP';
  valor: { original: string; final?: string };
  chave: string;
  devedor?: { cpf?: string; cnpj?: string; nome?: string };
  recebedor?: { cpf?: string; cnpj?: string; nome?: string };
  solicitacaoPagador?: string;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export interface JwsHeader {
  alg: 'RS256';
  typ?: string;
  kid?: string;
  /** the signer's certificate chain (base64 DER), as the pix-api recommends */
  x5c?: string[];
}

/** Compact JWS RS256 over the JSON payload. */
export function signJws(payload: unknown, privateKeyPem: string, header: Omit<JwsHeader, 'alg'> = {}): string {
  const h = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...header }));
  const p = b64url(JSON.stringify(payload));
  const signature = sign('sha256', Buffer.from(`${h}.${p}`), createPrivateKey(privateKeyPem));
  return `${h}.${p}.${b64url(signature)}`;
}

function keyOf(pem: string): KeyObject {
  return pem.includes('CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

/** Verifies the signature with the given public key or certificate and returns header and payload. */
export function verifyJws(jws: string, publicKeyOrCertPem: string): Result<{ header: JwsHeader; payload: unknown }> {
  if (typeof jws !== 'string' || jws.length > JWS_LENGTH_MAX) return fail('InvalidRequest', 'JWS missing or too long', 'jws', 'max-length');
  const parts = jws.split('.');
  if (parts.length !== 3 || parts.some((x) => !/^[A-Za-z0-9_-]*$/.test(x))) return fail('InvalidRequest', 'not a compact JWS', 'jws', 'format');
  let header: JwsHeader;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as JwsHeader;
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return fail('InvalidRequest', 'JWS header or payload is not JSON', 'jws', 'format');
  }
  // the algorithm is fixed, never taken from the token (no "none", no HMAC-with-public-key confusion)
  if (header?.alg !== 'RS256') return fail('RequestSignatureInvalid', 'JWS alg must be RS256', 'jws.alg', 'algorithm');
  const valid = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), keyOf(publicKeyOrCertPem), Buffer.from(parts[2]!, 'base64url'));
  if (!valid) return fail('RequestSignatureInvalid', 'JWS signature does not verify', 'jws', 'signature');
  return ok({ header, payload });
}

/** The rules of a cob/cobv payload that the payer's PSP relies on before showing the charge. */
export function checkChargePayload(value: unknown): Result<ChargePayload> {
  const p = value as Partial<ChargePayload> | null;
  if (typeof p !== 'object' || p === null) return fail('InvalidRequest', 'the charge payload is not an object', 'payload', 'type');
  if (typeof p.txid !== 'string' || !CHARGE_TXID_RE.test(p.txid)) return fail('InvalidRequest', 'txid must be 26–35 [a-zA-Z0-9]', 'txid', 'format');
  if (typeof p.revisao !== 'number' || !Number.isInteger(p.revisao) || p.revisao < 0) return fail('InvalidRequest', 'revisao must be a non-negative integer', 'revisao', 'integer');
  if (typeof p.chave !== 'string' || p.chave.length === 0 || p.chave.length > 77) return fail('InvalidRequest', 'chave must be a key', 'chave', 'format');
  if (typeof p.valor?.original !== 'string' || !AMOUNT_RE.test(p.valor.original)) return fail('InvalidRequest', 'valor.original must be like 12.34', 'valor.original', 'format');
  if (!['ATIVA', 'CONCLUIDA', 'REMOVIDA_PELO_USUARIO_RECEBEDOR', 'REMOVIDA_PELO_PSP'].includes(p.status as string)) return fail('InvalidRequest', 'status is not a charge status', 'status', 'enum');
  const cal = p.calendario;
  if (typeof cal?.criacao !== 'string' || Number.isNaN(Date.parse(cal.criacao))) return fail('InvalidRequest', 'calendario.criacao must be a date-time', 'calendario.criacao', 'date-time');
  if (typeof cal.apresentacao !== 'string' || Number.isNaN(Date.parse(cal.apresentacao))) return fail('InvalidRequest', 'calendario.apresentacao must be a date-time', 'calendario.apresentacao', 'date-time');
  const isCobv = cal.dataDeVencimento !== undefined;
  if (isCobv && !/^\d{4}-\d{2}-\d{2}$/.test(String(cal.dataDeVencimento))) return fail('InvalidRequest', 'calendario.dataDeVencimento must be a date', 'calendario.dataDeVencimento', 'date');
  if (!isCobv && (typeof cal.expiracao !== 'number' || !Number.isInteger(cal.expiracao) || cal.expiracao <= 0)) return fail('InvalidRequest', 'calendario.expiracao must be a positive number of seconds', 'calendario.expiracao', 'integer');
  return ok(p as ChargePayload);
}

/** Whether an immediate charge (cob) is past its expiry at `now` (criacao + expiracao seconds). */
export function chargeExpired(p: ChargePayload, now: Date): boolean {
  if (p.calendario.expiracao !== undefined) return now.getTime() > Date.parse(p.calendario.criacao) + p.calendario.expiracao * 1000;
  // cobv: payable until the due date plus validadeAposVencimento days (end of that day, UTC-3 ignored here)
  const due = Date.parse(`${p.calendario.dataDeVencimento}T23:59:59.999Z`);
  return now.getTime() > due + (p.calendario.validadeAposVencimento ?? 30) * 86_400_000;
}
