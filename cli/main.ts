// The TypeScript CLI behind ./fluxiq and the compiled binary: one entry for every service and every
// operator task. A bad config value or a missing dependency ends with one actionable line, exit 1.
import { ConfigError, describeConfig, loadConfig, type Config } from '../shared/config.ts';

const USAGE = `usage: fluxiq <command>

  up [--no-prepare] [--instances N]   (N of dict, spi and settlement on shared ports; spi active/standby)
                            start Postgres/Redis/NATS if needed, migrate, create the dev PKI, then run
                            dict, spi, settlement and the BACEN sandbox under one supervisor (Ctrl-C stops)
  test [bun test args]      prepare as 'up' does, run the whole suite on fresh test schemas and streams
  build [OUTFILE]           compile the single binary (default dist/fluxiq) with bun build --compile
  migrate                   apply sql/*.sql to DB_SCHEMA
  partitions ensure         create the current and next two months' partitions
  pki init                  create the dev PKI under var/pki/ (idempotent; renews its CRL when near expiry)
  pki revoke CERT | pki crl  revoke a dev-CA certificate and re-issue var/pki/ca.crl | re-issue the CRL now
  xml sign FILE [--key K --cert C]   sign a DICT document or an SPI envelope, print it
  xml verify FILE [--ca CA]          verify a signed document in BACEN's profile
  qr make --key K [--amount 12.34] --name N --city C [--txid T] | qr parse CODE   BR Codes
  messages show <EndToEndId>         print the signed SPI messages of a payment, both directions
  users add|client NAME --scopes S[,S]   gateway users (password on stdin) and API clients
  settlement report [--window ID]     net positions of a settlement window (latest closed by default)
  recon report [--date D]            reconcile a UTC day against BACEN's camt.053; exit 1 on unexplained mismatches
  audit verify [--from D --to D]     walk audit_log's hash chain; exit 1 naming the first broken row
  status | payments list|show | keys show | claims list|answer | infractions close | webhooks redeliver
  | str topup | windows step   operator tasks (the /ops dashboard's), each with --json (README: Operations)
  faults [--seconds S --rate N --only F,F --no-deps]   fault injection under load against the running platform
  serve <dict|spi|settlement|sandbox>   run one service in this process (what the supervisor runs)
  config                    list the environment variables and their defaults`;

export const SERVICES = ['sandbox', 'dict', 'spi', 'settlement'] as const;
export type ServiceName = (typeof SERVICES)[number];

async function serve(name: string, config: Config): Promise<number> {
  switch (name) {
    case 'dict':
      await (await import('../services/dict/main.ts')).run(config);
      return 0;
    case 'spi':
      await (await import('../services/spi/main.ts')).run(config);
      return 0;
    case 'settlement':
      await (await import('../services/settlement/main.ts')).run(config);
      return 0;
    case 'sandbox':
      await (await import('../services/bacen-sandbox/main.ts')).run(config);
      return 0;
    default:
      console.error(`fluxiq: unknown service '${name}' (one of ${SERVICES.join(', ')})`);
      return 2;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'config') {
    for (const v of describeConfig()) console.log(`${v.name.padEnd(22)} default ${v.default}`);
    return 0;
  }
  const config = loadConfig();
  switch (command) {
    case 'faults':
      return (await import('./faults.ts')).faults(config, rest);
    case 'up':
      return (await import('./up.ts')).up(config, rest);
    case 'test':
      return (await import('./test-runner.ts')).runTests(config, rest);
    case 'build':
      return (await import('./build.ts')).buildBinary(rest[0]);
    case 'migrate':
      return (await import('./prepare.ts')).migrateCommand(config);
    case 'partitions':
      return (await import('./prepare.ts')).partitionsCommand(config, rest);
    case 'pki':
      return (await import('./prepare.ts')).pkiCommand(config, rest);
    case 'recon':
      return (await import('./recon.ts')).reconCommand(config, rest);
    case 'audit':
      return (await import('./audit.ts')).auditCommand(config, rest);
    case 'settlement':
      return (await import('./settlement.ts')).settlementCommand(config, rest);
    case 'users':
      return (await import('./users.ts')).usersCommand(config, rest);
    case 'xml':
      return (await import('./xml.ts')).xmlCommand(rest);
    case 'messages':
      return (await import('./spi.ts')).messagesCommand(config, rest);
    case 'qr':
      return (await import('./spi.ts')).qrCommand(rest);
    case 'status': case 'payments': case 'keys': case 'claims': case 'infractions': case 'webhooks': case 'str': case 'windows':
      return (await import('./ops/index.ts')).opsCommand(config, command, rest);
    case 'serve':
      return serve(rest[0] ?? '', config);
    default:
      console.error(`fluxiq: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

/** Errors a person can act on are printed as one line; anything else is a bug and keeps its stack. */
const ACTIONABLE = new Set(['ConfigError', 'InfraError', 'DependencyError', 'NatsUnreachableError', 'RedisUnreachableError', 'MigrationError']);

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0 || !['up', 'serve'].includes(process.argv[2] ?? '')) process.exit(code);
    },
    (e: unknown) => {
      if (e instanceof ConfigError || (e instanceof Error && ACTIONABLE.has(e.name))) {
        console.error(`fluxiq: ${e.message}`);
      } else {
        console.error('fluxiq: unexpected error:', e);
      }
      process.exit(1);
    },
  );
}
