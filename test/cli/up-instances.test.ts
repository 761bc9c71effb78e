// `fluxiq up --instances N`: N instances of dict and settlement (sharing their ports), one of spi and the
// sandbox; a bad N is refused before anything starts.
import { expect, test } from 'bun:test';
import { childSpecs, instancesArg, UP_INSTANCES_MAX } from '../../cli/up.ts';

test('--instances is 1 when absent and takes 1..UP_INSTANCES_MAX', () => {
  expect(instancesArg(['--no-prepare'])).toEqual({ ok: true, value: 1 });
  expect(instancesArg(['--instances', '3'])).toEqual({ ok: true, value: 3 });
  for (const bad of ['0', String(UP_INSTANCES_MAX + 1), 'two', '-1', '']) {
    const r = instancesArg(['--instances', bad]);
    expect(r.ok).toBe(false);
  }
  expect(instancesArg(['--instances']).ok).toBe(false);
});

test('N instances of dict and settlement share their port; spi and the sandbox stay single', () => {
  const specs = childSpecs(2);
  expect(specs.map((s) => s.name)).toEqual(['sandbox', 'dict#1', 'dict#2', 'spi', 'settlement#1', 'settlement#2']);
  for (const s of specs) expect(s.env?.LISTEN_REUSE_PORT).toBe(s.name.includes('#') ? 'on' : undefined);
  // every instance runs the same service command
  expect(specs[1]!.cmd).toEqual(specs[2]!.cmd);
});

test('one instance each is the plain platform, without port sharing', () => {
  const specs = childSpecs(1);
  expect(specs.map((s) => s.name)).toEqual(['sandbox', 'dict', 'spi', 'settlement']);
  expect(specs.every((s) => s.env === undefined)).toBe(true);
});
