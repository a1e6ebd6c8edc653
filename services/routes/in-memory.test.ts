import { routeRegistryConformance } from './conformance.js';
import { InMemoryRouteRegistry } from './in-memory.js';

routeRegistryConformance('in-memory', async () => {
  const r = new InMemoryRouteRegistry();
  await r.start();
  return [r, r];
});
