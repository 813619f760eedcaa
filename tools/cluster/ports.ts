// The Temporal server's ports, as one block from a base, so the cluster runs beside a dev server (7233) and
// `npm start`: each service has a gRPC port and a membership (ringpop) port; the frontend also serves HTTP.
import type { PortNeed } from '../shared/ports';

export type TemporalService = 'frontend' | 'history' | 'matching' | 'worker';
export const TEMPORAL_SERVICES: readonly TemporalService[] = ['frontend', 'history', 'matching', 'worker'];

export interface ServicePorts {
  grpc: number;
  membership: number;
}

export interface PortLayout {
  base: number;
  services: Record<TemporalService, ServicePorts>;
  /** The frontend's HTTP API. */
  frontendHttp: number;
}

/** base+0..3 gRPC (frontend, history, matching, worker), base+10..13 membership, base+20 frontend HTTP. */
export function portLayout(base: number): PortLayout {
  const services = Object.fromEntries(
    TEMPORAL_SERVICES.map((s, i) => [s, { grpc: base + i, membership: base + 10 + i }]),
  ) as Record<TemporalService, ServicePorts>;
  return { base, services, frontendHttp: base + 20 };
}

/** Every port of the layout, for one "already in use" check before anything starts. */
export function temporalPortNeeds(layout: PortLayout): PortNeed[] {
  const needs: PortNeed[] = [];
  for (const s of TEMPORAL_SERVICES) {
    needs.push({ port: layout.services[s].grpc, purpose: `Temporal ${s} gRPC (CLUSTER_PORT_BASE)` });
    needs.push({
      port: layout.services[s].membership,
      purpose: `Temporal ${s} membership (CLUSTER_PORT_BASE)`,
    });
  }
  needs.push({ port: layout.frontendHttp, purpose: 'Temporal frontend HTTP (CLUSTER_PORT_BASE)' });
  return needs;
}
