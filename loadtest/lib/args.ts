// Command-line flags of the load scenarios: `--rate N --seconds S` and friends, each a positive number with a
// default and an upper bound (a scenario is always bounded in time and count), `--flag` booleans.
export function numberFlag(name: string, fallback: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0 || v > max) {
    console.error(`--${name} needs a number in (0, ${max}]`);
    process.exit(2);
  }
  return v;
}

export const hasFlag = (name: string): boolean => process.argv.includes(`--${name}`);
