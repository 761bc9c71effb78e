// ./fluxiq qr make|parse and ./fluxiq messages show <EndToEndId>.
//   qr make --key K [--amount 12.34] --name N --city C [--txid T]   prints the BR Code as its last line
//   qr parse CODE                                                   prints the fields as JSON, or exits 1 with the reason
//   messages show E2E                                               prints every stored SPI message of the payment
import type { Config } from '../shared/config.ts';
import { createDb } from '../shared/db/client.ts';
import { parseAmount } from '../shared/money.ts';
import { makeBrCode, parseBrCode } from '../shared/spi/brcode.ts';
import { parseEndToEndId } from '../shared/ids.ts';
import { brCodeJson } from '../services/spi/qr/routes.ts';
import { messagesOf } from '../services/spi/messages/routes.ts';

function flags(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) out[a.slice(2)] = args[++i] ?? '';
  }
  return out;
}

export async function qrCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'make') {
    const f = flags(rest);
    if (!f.key || !f.name || !f.city) {
      console.error('usage: fluxiq qr make --key K [--amount 12.34] --name N --city C [--txid T]');
      return 2;
    }
    let amountCentavos: bigint | undefined;
    if (f.amount !== undefined) {
      const a = parseAmount(f.amount, 'amount');
      if (!a.ok) {
        console.error(`fluxiq qr: ${a.error.detail}`);
        return 1;
      }
      amountCentavos = a.value;
    }
    const code = makeBrCode({ kind: 'static', key: f.key, name: f.name, city: f.city, txid: f.txid ?? '***', ...(amountCentavos ? { amountCentavos } : {}) });
    if (!code.ok) {
      console.error(`fluxiq qr: ${code.error.field ?? ''} ${code.error.rule ?? ''}: ${code.error.detail}`.trim());
      return 1;
    }
    console.log(code.value);
    return 0;
  }
  if (sub === 'parse' && rest[0] !== undefined) {
    const code = parseBrCode(rest[0]);
    if (!code.ok) {
      console.error(`fluxiq qr: field ${code.error.field ?? '?'} (${code.error.rule ?? 'invalid'}): ${code.error.detail}`);
      return 1;
    }
    console.log(JSON.stringify(brCodeJson(code.value), null, 2));
    return 0;
  }
  console.error('usage: fluxiq qr make --key K [--amount 12.34] --name N --city C [--txid T] | fluxiq qr parse CODE');
  return 2;
}

export async function messagesCommand(config: Config, args: string[]): Promise<number> {
  const [sub, e2e] = args;
  const id = parseEndToEndId(e2e, 'EndToEndId');
  if (sub !== 'show' || !id.ok) {
    console.error(`usage: fluxiq messages show <EndToEndId>${id.ok ? '' : ` (${id.error.detail})`}`);
    return 2;
  }
  const db = createDb(config);
  try {
    const list = await messagesOf(db.sql, id.value);
    if (list.length === 0) {
      console.error(`fluxiq messages: no messages for ${id.value}`);
      return 1;
    }
    for (const m of list) {
      console.log(`# ${m.at} ${m.direction} ${m.type} ${m.msgId}`);
      console.log(m.signedXml);
    }
    return 0;
  } finally {
    await db.close();
  }
}
