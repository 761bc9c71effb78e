// The sensitive values flow.ts handles and logscan.test.ts looks for in its logs.
export const SECRETS = {
  cpf: '39053344705',
  otherCpf: '11144477735',
  phone: '+5511912345678',
  email: 'segredo.cliente@example.com',
  accountNumber: '987654321',
} as const;
