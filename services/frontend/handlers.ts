// Every RPC the frontend serves, by gRPC service: what server.ts binds and what compatibility.ts
// lists. A method of a service's definition that has no handler here answers UNIMPLEMENTED.
import type { FailoverCoordinator } from '../namespaces/failover-coordinator.js';
import type { FrontendContext, Handlers } from './context.js';
import { deploymentHandlers } from './deployment-handlers.js';
import { namespaceHandlers, systemHandlers } from './namespace-handlers.js';
import { OPERATOR_SERVICE, operatorHandlers } from './operator-handlers.js';
import { scheduleHandlers } from './schedule-handlers.js';
import { taskHandlers } from './task-handlers.js';
import { visibilityHandlers } from './visibility-handlers.js';
import { workflowHandlers } from './workflow-handlers.js';

export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
export { OPERATOR_SERVICE };

export function servedHandlers(ctx: FrontendContext, failover: FailoverCoordinator): Record<typeof WORKFLOW_SERVICE | typeof OPERATOR_SERVICE, Handlers> {
  return {
    [WORKFLOW_SERVICE]: {
      ...systemHandlers(ctx),
      ...namespaceHandlers(ctx, failover),
      ...workflowHandlers(ctx),
      ...taskHandlers(ctx),
      ...deploymentHandlers(ctx),
      ...visibilityHandlers(ctx),
      ...scheduleHandlers(ctx),
    },
    [OPERATOR_SERVICE]: operatorHandlers(ctx),
  };
}
