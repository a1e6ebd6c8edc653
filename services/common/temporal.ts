// The Temporal public API as loaded from @temporalio/proto (never copied into the repo): the
// reflection root for services and codecs, and short names for the generated types.
import protoRoot from '@temporalio/proto';

export const root = protoRoot;
export const temporal = protoRoot.temporal;
export const google = protoRoot.google;

export type ws = typeof protoRoot.temporal.api.workflowservice.v1;
export import api = protoRoot.temporal.api;
export import workflowservice = protoRoot.temporal.api.workflowservice.v1;
export import operatorservice = protoRoot.temporal.api.operatorservice.v1;
export import historyv1 = protoRoot.temporal.api.history.v1;
export import commonv1 = protoRoot.temporal.api.common.v1;
export import enums = protoRoot.temporal.api.enums.v1;
export import failure = protoRoot.temporal.api.failure.v1;
export import taskqueuev1 = protoRoot.temporal.api.taskqueue.v1;
export import errordetails = protoRoot.temporal.api.errordetails.v1;
export import namespacev1 = protoRoot.temporal.api.namespace.v1;
export import workflowv1 = protoRoot.temporal.api.workflow.v1;
export import commandv1 = protoRoot.temporal.api.command.v1;
export import protocolv1 = protoRoot.temporal.api.protocol.v1;
export import updatev1 = protoRoot.temporal.api.update.v1;
export import queryv1 = protoRoot.temporal.api.query.v1;
export import sdkv1 = protoRoot.temporal.api.sdk.v1;
export import activityv1 = protoRoot.temporal.api.activity.v1;
