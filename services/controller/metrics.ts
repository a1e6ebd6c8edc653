// The controller's metrics (tandem_controller_*, base units, counters end in _total).
import { counter, gauge, histogram, type Registry } from '../common/metrics.js';

export function controllerMetrics(registry: Registry) {
  return {
    isLeader: gauge(registry, 'tandem_controller_is_leader', '1 while this replica holds the controller lease'),
    regionStatus: gauge(registry, 'tandem_controller_region_status', "1 for the region's current verdict (up, suspect, down), 0 for the others", ['region', 'status']),
    failovers: counter(registry, 'tandem_controller_failovers_total', 'Failovers the controller ran (region down, failback, page, drill)', ['mode', 'outcome']),
    probes: counter(registry, 'tandem_controller_probes_total', 'Observer probes of a region by outcome', ['region', 'outcome']),
    probeSeconds: histogram(registry, 'tandem_controller_probe_duration_seconds', 'Latency of each observer probe step (health, start, describe)', ['region', 'probe']),
    rpoSeconds: gauge(registry, 'tandem_controller_last_forced_failover_lag_seconds', "The replication lag at the last forced failover's switch (its RPO)", ['namespace']),
  };
}

export type ControllerMetrics = ReturnType<typeof controllerMetrics>;
