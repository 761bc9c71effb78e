// The dev world: our institution, BACEN, and the simulated PSPs the sandbox plays. Each has a
// certificate in var/pki/ carrying its ISPB in the subject (OU=ISPB-<ispb>).
export interface SimulatedPsp {
  ispb: string;
  name: string;
}

export const SANDBOX_PSPS: readonly SimulatedPsp[] = [
  { ispb: '10000001', name: 'Banco Simulado Alfa' },
  { ispb: '10000002', name: 'Banco Simulado Beta' },
  { ispb: '10000003', name: 'Cooperativa Simulada Gama' },
  { ispb: '10000004', name: 'Pagamentos Simulados Delta' },
  { ispb: '10000005', name: 'Fintech Simulada Epsilon' },
  { ispb: '10000006', name: 'Instituicao Simulada Zeta' },
];
