// bun test/sim/run.ts [--seeds N] [--from S] [--strict] | --seed S [--trace] [--strict]
// Runs many seeds (default 10,000 from a random start) or replays one; exit 1 on the first failing seed.
import { reproduce, runSeed } from './sim.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const one = arg('--seed');
if (one !== undefined) {
  const r = runSeed(Number(one), { trace: process.argv.includes('--trace'), strict: process.argv.includes('--strict') });
  for (const line of r.trace) console.log(line);
  console.log(r.ok ? `seed ${r.seed}: ok (${r.steps} events, ${r.payments} payments, ${r.settled} settled)` : `seed ${r.seed}: FAILED: ${r.failure}`);
  process.exit(r.ok ? 0 : 1);
}
const count = Number(arg('--seeds') ?? 10_000);
const from = Number(arg('--from') ?? Math.floor(Math.random() * 2 ** 31));
const started = performance.now();
let steps = 0;
for (let s = from; s < from + count; s++) {
  const r = runSeed(s, { strict: process.argv.includes('--strict') });
  steps += r.steps;
  if (!r.ok) {
    console.error(`seed ${s} FAILED: ${r.failure}\nreproduce: ${reproduce(s)}`);
    process.exit(1);
  }
}
const ms = performance.now() - started;
console.log(`${count} seeds from ${from}: all invariants held (${steps} events, ${Math.round(ms)} ms)`);
console.log(JSON.stringify({ seeds: count, from, events: steps, ms: Math.round(ms) }));
