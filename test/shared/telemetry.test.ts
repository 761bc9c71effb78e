import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import { createLogger, mask, maskText } from '../../shared/telemetry.ts';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, dest };
}

describe('logs never carry a full key, tax id or account number', () => {
  test('sensitive fields are masked, secrets redacted', async () => {
    const { lines, dest } = capture();
    const log = createLogger('test', 'info', dest);
    log.info({ key: '+5511987654321', taxId: '12345678909', account: { number: '0012345678', branch: '0001' }, password: 'hunter2' }, 'key registered');
    await Bun.sleep(10);
    const text = lines.join('');
    expect(text).not.toContain('+5511987654321');
    expect(text).not.toContain('12345678909');
    expect(text).not.toContain('0012345678');
    expect(text).not.toContain('hunter2');
    const entry = JSON.parse(lines[0]!);
    expect(entry.key).toBe(mask('+5511987654321'));
    expect(entry.account.branch).toBe('0001');
    expect(entry.service).toBe('test');
  });

  test('a key pasted into a free-text message is masked too', async () => {
    const { lines, dest } = capture();
    const log = createLogger('test', 'info', dest);
    log.warn('lookup of 12345678909 and someone@example.com failed');
    await Bun.sleep(10);
    expect(lines.join('')).not.toContain('12345678909');
    expect(lines.join('')).not.toContain('someone@example.com');
  });

  test('mask keeps only the ends', () => {
    expect(mask('12345678909')).toBe('12*******09');
    expect(mask('abc')).toBe('***');
    expect(maskText('cpf 123.456.789-09 end')).not.toContain('456');
  });
});
