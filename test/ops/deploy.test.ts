// The deployment files, checked without a cluster: every Kubernetes manifest validates against the
// Kubernetes API schemas (npm kubernetes-models; kubeconform/kubeval are not packaged for Debian or npm),
// and a structural check of our own on top: every manifest parses (Bun.YAML), carries the fields the API
// server requires for its kind, and the pieces refer to each other correctly (selectors match pod labels,
// PDBs and HPAs target a workload, Services select pods, mounted ConfigMaps/Secrets exist, every
// environment variable is one the platform reads). `docker compose` is not installed here, so the compose
// file gets the structural check only.
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeConfig, ROOT_DIR } from '../../shared/config.ts';

type Obj = Record<string, any>;
const K8S_DIR = join(ROOT_DIR, 'deploy', 'k8s');
const manifests: { file: string; doc: Obj }[] = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml')).sort().flatMap((file) => {
  const parsed = Bun.YAML.parse(readFileSync(join(K8S_DIR, file), 'utf8')) as Obj | Obj[];
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((d) => d !== null).map((doc) => ({ file, doc }));
});
const ofKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const named = (kind: string, name: string) => ofKind(kind).find((d) => d.metadata.name === name);
/** Variables the platform reads (shared/config.ts), plus the Dockerfile's SERVICE_PORT (its health check). */
const KNOWN_ENV = new Set([...describeConfig().map((v) => v.name), 'SERVICE_PORT']);
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G)?$/;

/** apiVersion each kind is served under (current, non-deprecated versions). */
const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1', ConfigMap: 'v1', Secret: 'v1', Service: 'v1',
  Deployment: 'apps/v1', StatefulSet: 'apps/v1', Job: 'batch/v1',
  PodDisruptionBudget: 'policy/v1', HorizontalPodAutoscaler: 'autoscaling/v2',
};

const matchesLabels = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** `claims`: a StatefulSet's volumeClaimTemplates, which its pods mount like volumes. */
function checkPodSpec(where: string, spec: Obj, problems: string[], probes: boolean, claims: string[] = []) {
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) problems.push(`${where}: no containers`);
  const volumes = new Map<string, Obj>((spec.volumes ?? []).map((v: Obj) => [v.name, v]));
  const mountable = new Set([...volumes.keys(), ...claims]);
  for (const c of spec.containers ?? []) {
    const at = `${where} container ${c.name}`;
    if (typeof c.name !== 'string' || typeof c.image !== 'string') problems.push(`${at}: name and image are required`);
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) problems.push(`${at}: cpu/memory requests and a memory limit are required`);
    for (const q of [c.resources?.requests?.cpu, c.resources?.requests?.memory, c.resources?.limits?.memory]) if (q !== undefined && !QUANTITY.test(String(q))) problems.push(`${at}: bad quantity ${q}`);
    for (const e of c.env ?? []) if (!KNOWN_ENV.has(e.name) && e.name !== 'POD_NAME') problems.push(`${at}: env ${e.name} is not a platform variable`);
    for (const src of c.envFrom ?? []) {
      const ref = src.configMapRef?.name ?? src.secretRef?.name;
      if (ref === undefined || (src.configMapRef ? named('ConfigMap', ref) : named('Secret', ref)) === undefined) problems.push(`${at}: envFrom ${ref} does not exist`);
    }
    for (const m of c.volumeMounts ?? []) if (!mountable.has(m.name)) problems.push(`${at}: mount ${m.name} has no volume`);
    const portNames = new Set((c.ports ?? []).map((p: Obj) => p.name));
    if (probes) {
      for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
        const port = c[probe]?.httpGet?.port;
        if (port === undefined) problems.push(`${at}: ${probe} is required`);
        else if (typeof port === 'string' && !portNames.has(port)) problems.push(`${at}: ${probe} names port ${port}, which the container does not declare`);
      }
    }
  }
  for (const v of volumes.values()) {
    if (v.secret && named('Secret', v.secret.secretName) === undefined) problems.push(`${where}: volume ${v.name}: no Secret ${v.secret.secretName}`);
    if (v.configMap && named('ConfigMap', v.configMap.name) === undefined) problems.push(`${where}: volume ${v.name}: no ConfigMap ${v.configMap.name}`);
  }
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  test('every manifest parses and has apiVersion, kind, metadata.name and the namespace', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(20);
    for (const { file, doc } of manifests) {
      expect(API_VERSIONS[doc.kind], `${file}: kind ${doc.kind}`).toBeDefined();
      expect(doc.apiVersion, `${file}: ${doc.kind}`).toBe(API_VERSIONS[doc.kind]!);
      expect(doc.metadata?.name, `${file}: ${doc.kind} name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (doc.kind !== 'Namespace') expect(doc.metadata.namespace, `${file}: ${doc.kind}/${doc.metadata.name}`).toBe('fluxiq');
    }
    const names = manifests.map((m) => `${m.doc.kind}/${m.doc.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  test('the workloads are complete: selectors match their pods, resources, probes, mounts and env all resolve', () => {
    const problems: string[] = [];
    for (const kind of ['Deployment', 'StatefulSet'] as const) {
      for (const d of ofKind(kind)) {
        const where = `${kind}/${d.metadata.name}`;
        if (!matchesLabels(d.spec.selector?.matchLabels ?? { none: 'none' }, d.spec.template?.metadata?.labels)) problems.push(`${where}: selector does not match the pod labels`);
        if (!Number.isInteger(d.spec.replicas) || d.spec.replicas < 1) problems.push(`${where}: replicas`);
        checkPodSpec(where, d.spec.template.spec, problems, true, (d.spec.volumeClaimTemplates ?? []).map((c: Obj) => c.metadata.name));
      }
    }
    for (const j of ofKind('Job')) {
      if (!['Never', 'OnFailure'].includes(j.spec.template.spec.restartPolicy)) problems.push(`Job/${j.metadata.name}: restartPolicy must be Never or OnFailure`);
      checkPodSpec(`Job/${j.metadata.name}`, j.spec.template.spec, problems, false);
    }
    expect(problems).toEqual([]);
  });

  test('dict, spi and settlement are ready on /ready and alive on /health; dict scales horizontally, spi is active/standby', () => {
    for (const name of ['dict', 'spi', 'settlement']) {
      const d = named('Deployment', name)!;
      expect(d, name).toBeDefined();
      const c = d.spec.template.spec.containers[0];
      expect(c.args).toEqual(['serve', name]);
      expect(c.readinessProbe.httpGet.path).toBe('/ready');
      expect(c.livenessProbe.httpGet.path).toBe('/health');
      expect(c.volumeMounts).toContainEqual({ name: 'pki', mountPath: '/app/pki', readOnly: true });
      expect(d.spec.template.spec.volumes.find((v: Obj) => v.name === 'pki').secret.secretName).toBe('fluxiq-pki');
    }
    // spi: two replicas, one active (services/spi/main.ts); more would only be standbys, so no autoscaler
    expect(named('Deployment', 'spi')!.spec.replicas).toBe(2);
    expect(named('HorizontalPodAutoscaler', 'spi')).toBeUndefined();
    // settlement: two replicas rolled one at a time (its singleton workers run under a lease in one of them)
    const settlement = named('Deployment', 'settlement')!;
    expect(settlement.spec.replicas).toBe(2);
    expect(settlement.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(named('PodDisruptionBudget', 'settlement')!.spec.minAvailable).toBe(1);
    for (const name of ['dict']) {
      const hpa = named('HorizontalPodAutoscaler', name)!;
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics.length).toBeGreaterThan(0);
    }
    // the certificates are a Secret with the files the services read from PKI_DIR
    expect(Object.keys(named('Secret', 'fluxiq-pki')!.stringData).sort()).toEqual(['bacen.crt', 'ca.crl', 'ca.crt', 'participant.crt', 'participant.key']);
    expect(named('ConfigMap', 'fluxiq-config')!.data.PKI_DIR).toBe('/app/pki');
  });

  test('every ConfigMap and Secret variable is one the platform reads; no secret sits in the ConfigMap', () => {
    const cm = named('ConfigMap', 'fluxiq-config')!.data as Record<string, string>;
    const secret = named('Secret', 'fluxiq-secrets')!.stringData as Record<string, string>;
    expect(Object.keys(cm).filter((k) => !KNOWN_ENV.has(k))).toEqual([]);
    expect(Object.keys(secret).filter((k) => !KNOWN_ENV.has(k))).toEqual([]);
    expect(Object.keys(cm).filter((k) => /SECRET|PASSWORD|JWT|DATABASE_URL/.test(k))).toEqual([]);
    expect(Object.values(cm).every((v) => typeof v === 'string')).toBe(true); // ConfigMap data is strings only
  });

  test('PodDisruptionBudgets, Services and HPAs point at workloads that exist', () => {
    const workloads = [...ofKind('Deployment'), ...ofKind('StatefulSet')];
    const podsMatching = (selector: Obj) => workloads.filter((w) => matchesLabels(selector, w.spec.template.metadata.labels));
    for (const pdb of ofKind('PodDisruptionBudget')) {
      expect(podsMatching(pdb.spec.selector.matchLabels).length, `PDB ${pdb.metadata.name}`).toBe(1);
      expect((pdb.spec.minAvailable === undefined) !== (pdb.spec.maxUnavailable === undefined), `PDB ${pdb.metadata.name}: exactly one of minAvailable/maxUnavailable`).toBe(true);
    }
    for (const s of ofKind('Service')) expect(podsMatching(s.spec.selector).length, `Service ${s.metadata.name}`).toBeGreaterThan(0);
    for (const h of ofKind('HorizontalPodAutoscaler')) expect(named(h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name), `HPA ${h.metadata.name}`).toBeDefined();
    for (const w of workloads) expect(ofKind('PodDisruptionBudget').some((p) => matchesLabels(p.spec.selector.matchLabels, w.spec.template.metadata.labels)), `${w.kind}/${w.metadata.name} has a PDB`).toBe(true);
  });

  test('NATS is a three-server JetStream cluster with routes to each member, and the services use R3 streams', () => {
    const sts = named('StatefulSet', 'nats')!;
    expect(sts.spec.replicas).toBe(3);
    expect(named('Service', sts.spec.serviceName)!.spec.clusterIP).toBe('None');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toMatch(QUANTITY);
    const conf = named('ConfigMap', 'nats-config')!.data['nats.conf'] as string;
    expect(conf).toContain('jetstream {');
    for (const i of [0, 1, 2]) expect(conf).toContain(`nats://nats-${i}.${sts.spec.serviceName}.fluxiq.svc.cluster.local:6222`);
    expect(named('PodDisruptionBudget', 'nats')!.spec.maxUnavailable).toBe(1);
    expect(named('ConfigMap', 'fluxiq-config')!.data.NATS_STREAM_REPLICAS).toBe('3');
  });
});

describe('compose file (deploy/compose.yaml)', () => {
  const compose = Bun.YAML.parse(readFileSync(join(ROOT_DIR, 'deploy', 'compose.yaml'), 'utf8')) as Obj;
  const services = compose.services as Record<string, Obj>;

  test('runs the three services from the Dockerfile with Postgres, Redis and three NATS nodes, each with a health check', () => {
    for (const name of ['postgres', 'redis', 'nats-1', 'nats-2', 'nats-3', 'dict', 'spi', 'settlement']) {
      expect(services[name], name).toBeDefined();
      expect(services[name]!.healthcheck?.test, `${name} health check`).toBeDefined();
    }
    for (const name of ['dict', 'spi', 'settlement']) {
      expect(services[name]!.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      expect(services[name]!.command).toEqual(['serve', name]);
      expect(services[name]!.healthcheck.test.join(' ')).toContain('/ready');
    }
    expect(services.migrate!.depends_on.postgres.condition).toBe('service_healthy');
  });

  test('the NATS nodes form one JetStream cluster routed to each other', () => {
    const nodes = ['nats-1', 'nats-2', 'nats-3'];
    for (const n of nodes) {
      const args = services[n]!.command as string[];
      expect(args).toContain('-js');
      expect(args[args.indexOf('--cluster_name') + 1]).toBe('fluxiq');
      const routes = args[args.indexOf('--routes') + 1]!.split(',');
      expect(routes.sort()).toEqual(nodes.filter((o) => o !== n).map((o) => `nats://${o}:6222`));
    }
  });

  test('every depends_on target exists and every variable is one the platform reads', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
      const unknown = Object.keys(s.environment ?? {}).filter((k) => !['postgres', 'redis'].includes(name) && !KNOWN_ENV.has(k));
      expect(unknown, `${name} environment`).toEqual([]);
    }
    expect(services.dict!.environment.NATS_STREAM_REPLICAS).toBe('3');
    expect(services.settlement!.environment.DICT_URL).toBe('http://dict:4001');
  });
});

/** kubernetes-models: the Kubernetes API's own OpenAPI schemas, compiled to validators, one module per kind. */
async function schemaValidate(doc: Obj): Promise<void> {
  const [group, version] = String(doc.apiVersion).includes('/') ? String(doc.apiVersion).split('/') : ['', String(doc.apiVersion)];
  const mod = (await import(group ? `kubernetes-models/${group}/${version}/${doc.kind}` : `kubernetes-models/${version}/${doc.kind}`)) as Record<string, new (o: Obj) => { validate(): void }>;
  const Kind = mod[doc.kind as string];
  if (Kind === undefined) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Kind(doc).validate();
}

describe('the Kubernetes manifests against the Kubernetes schemas', () => {
  test('every manifest validates against its kind\'s schema', async () => {
    for (const { file, doc } of manifests) {
      try {
        await schemaValidate(doc);
      } catch (e) {
        throw new Error(`${file}: ${doc.kind} ${doc.metadata?.name}: ${e instanceof Error ? e.message : e}`);
      }
    }
    expect(manifests.length).toBeGreaterThan(10);
  });

  test('the validator refuses a manifest the API server would refuse', async () => {
    const deployment = structuredClone(ofKind('Deployment')[0]!);
    deployment.spec.replicas = 'two';
    await expect(schemaValidate(deployment)).rejects.toThrow();
  });
});
