import { describe, expect, test } from 'bun:test';
import { ConfigError, loadConfig } from '../../shared/config.ts';

describe('configuration is validated at start', () => {
  test('defaults are typed values', () => {
    const c = loadConfig({});
    expect(c.dictPort).toBe(4001);
    expect(c.spiPort).toBe(4002);
    expect(c.settlementPort).toBe(4003);
    expect(c.sandboxPort).toBe(4443);
    expect(c.ispb).toMatch(/^[0-9A-Z]{8}$/);
    expect(c.databaseUrl.startsWith('postgres://')).toBe(true);
  });

  test.each([
    ['DICT_PORT', 'abc', 'DICT_PORT=abc is not an integer'],
    ['DICT_PORT', '70000', 'DICT_PORT=70000 is outside 1..65535'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL=mysql://x must use postgres: or postgresql:'],
    ['FLUXIQ_ISPB', '123', 'FLUXIQ_ISPB=123 is not an ISPB'],
    ['DB_SCHEMA', 'drop table;', 'DB_SCHEMA=drop table; must match'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL=loud must be one of'],
    ['BACEN_URL', 'http://x', 'BACEN_URL=http://x must use https:'],
  ])('%s=%s stops the process with a one-line message naming the variable', (name, value, message) => {
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toStartWith(message);
    expect((thrown as Error).message).not.toContain('\n');
  });

  test('the CLI prints a bad value as one line and exits 1, without a stack trace', () => {
    const p = Bun.spawnSync(['bun', 'cli/main.ts', 'migrate'], { env: { ...process.env, DICT_PORT: 'nope' }, stderr: 'pipe', stdout: 'pipe' });
    expect(p.exitCode).toBe(1);
    expect(p.stderr.toString().trim()).toBe('fluxiq: DICT_PORT=nope is not an integer');
  });
});
