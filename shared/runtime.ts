// Whether this code runs inside the `bun build --compile` binary (its modules live under /$bunfs/).
// Paths that are files on disk in a checkout are embedded entry points or files beside the binary there.
export const IS_COMPILED = import.meta.url.includes('/$bunfs/') || import.meta.url.includes('%24bunfs');

/**
 * Exit status of a service that stopped on purpose to be started again at once (EX_TEMPFAIL): e.g. spi after
 * losing its active lease, once Postgres answers again, so that a fresh process (empty memory) waits for the
 * lease. The supervisor restarts it after its shortest delay and does not count it as a crash.
 */
export const EXIT_RESTART_NOW = 75;
