// Whether this code runs inside the `bun build --compile` binary (its modules live under /$bunfs/).
// Paths that are files on disk in a checkout are embedded entry points or files beside the binary there.
export const IS_COMPILED = import.meta.url.includes('/$bunfs/') || import.meta.url.includes('%24bunfs');
