// Any SPI message by its MsgDefIdr: what an inbox reader or the sandbox's intake calls when it does not
// know in advance which message arrived.
import type { Result } from '../result.ts';
import { readCamt052, type Camt052 } from './camt052.ts';
import { readCamt053, type Camt053 } from './camt053.ts';
import { readEnvelope, type SpiEnvelope } from './envelope.ts';
import { readPacs002, type Pacs002 } from './pacs002.ts';
import { readPacs004, type Pacs004 } from './pacs004.ts';
import { readPacs008, type Pacs008 } from './pacs008.ts';
import { readPacs028, type Pacs028 } from './pacs028.ts';
import { readMessage } from './read.ts';

export type SpiMessage =
  | (SpiEnvelope<Pacs008> & { type: 'pacs.008' })
  | (SpiEnvelope<Pacs002> & { type: 'pacs.002' })
  | (SpiEnvelope<Pacs004> & { type: 'pacs.004' })
  | (SpiEnvelope<Pacs028> & { type: 'pacs.028' })
  | (SpiEnvelope<Camt052> & { type: 'camt.052' })
  | (SpiEnvelope<Camt053> & { type: 'camt.053' });

export function parseSpiMessage(xml: string): Result<SpiMessage> {
  const raw = readEnvelope(xml);
  if (!raw.ok) return raw;
  const { type, body, header, msgDefIdr, signed } = raw.value;
  return readMessage((): SpiMessage => {
    const base = { msgDefIdr, header, signed };
    switch (type) {
      case 'pacs.008': return { ...base, type, message: readPacs008(body, header) };
      case 'pacs.002': return { ...base, type, message: readPacs002(body) };
      case 'pacs.004': return { ...base, type, message: readPacs004(body, header) };
      case 'pacs.028': return { ...base, type, message: readPacs028(body) };
      case 'camt.052': return { ...base, type, message: readCamt052(body) };
      case 'camt.053': return { ...base, type, message: readCamt053(body) };
    }
  });
}
