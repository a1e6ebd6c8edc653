// Task tokens are opaque to workers; history encodes what it needs to find the task again.
// JSON keeps them debuggable; the leading kind byte tells the three kinds apart.
export interface WorkflowTaskToken {
  namespaceId: string;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  startedEventId: number;
  attempt: number;
}

export interface ActivityTaskToken {
  namespaceId: string;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  attempt: number;
  activityId: string;
}

export interface QueryTaskToken {
  namespaceId: string;
  queryId: string;
}

const WORKFLOW = 0x57; // 'W'
const ACTIVITY = 0x41; // 'A'
const QUERY = 0x51; // 'Q'

function encode(kind: number, body: object): Uint8Array {
  return Buffer.concat([Buffer.from([kind]), Buffer.from(JSON.stringify(body), 'utf8')]);
}

function decode<T>(kind: number, token: Uint8Array | null | undefined): T | null {
  if (!token || token.length < 2 || token[0] !== kind) return null;
  try {
    return JSON.parse(Buffer.from(token.subarray(1)).toString('utf8')) as T;
  } catch {
    return null;
  }
}

export const encodeWorkflowTaskToken = (t: WorkflowTaskToken) => encode(WORKFLOW, t);
export const decodeWorkflowTaskToken = (b: Uint8Array | null | undefined) => decode<WorkflowTaskToken>(WORKFLOW, b);
export const encodeActivityTaskToken = (t: ActivityTaskToken) => encode(ACTIVITY, t);
export const decodeActivityTaskToken = (b: Uint8Array | null | undefined) => decode<ActivityTaskToken>(ACTIVITY, b);
export const encodeQueryTaskToken = (t: QueryTaskToken) => encode(QUERY, t);
export const decodeQueryTaskToken = (b: Uint8Array | null | undefined) => decode<QueryTaskToken>(QUERY, b);
