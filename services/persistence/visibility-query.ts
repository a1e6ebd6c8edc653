// The visibility query as every VisibilityStore receives it: Temporal's list filter language
// already parsed, its names resolved to typed fields and its literals converted to their
// field's type by the frontend, so a store only translates (SQL, OpenSearch DSL) or evaluates.

/** Temporal's IndexedValueType names. */
export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/**
 * One literal, converted to its field's type: Keyword/Text/KeywordList → string (a KeywordList
 * condition matches when any element does), Int/Double → number, Bool → boolean, Datetime →
 * epoch milliseconds (number). ExecutionStatus is a Keyword holding the status name ("Running").
 */
export type ScalarValue = string | number | boolean;

/** A search attribute value as a record stores it: KeywordList → string[], the rest as ScalarValue. */
export interface TypedValue {
  type: SearchAttributeType;
  value: ScalarValue | string[];
}

/** A name in a query: a record column (`builtin`, see VisibilityColumn) or a search attribute. */
export interface FieldRef {
  name: string;
  type: SearchAttributeType;
  /** True for the columns every record has (WorkflowId, StartTime, ...); false for `searchAttributes` entries. */
  builtin: boolean;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { op: 'and' | 'or'; items: Condition[] }
  | { op: CompareOp; field: FieldRef; value: ScalarValue }
  | { op: 'in' | 'notIn'; field: FieldRef; values: ScalarValue[] }
  | { op: 'between' | 'notBetween'; field: FieldRef; low: ScalarValue; high: ScalarValue }
  | { op: 'startsWith' | 'notStartsWith'; field: FieldRef; prefix: string }
  | { op: 'isNull' | 'isNotNull'; field: FieldRef };

export interface OrderBy {
  field: FieldRef;
  desc: boolean;
}

export interface VisibilityQuery {
  /** Absent: every record of the namespace. */
  where?: Condition;
  /**
   * Absent or empty: the default order, as the reference server lists: open runs first, newest
   * start first; then closed runs, newest close first; ties by run id.
   */
  orderBy?: OrderBy[];
}

/** Record columns a query may name, by their Temporal name. */
export const visibilityColumns = {
  WorkflowId: 'Keyword',
  RunId: 'Keyword',
  WorkflowType: 'Keyword',
  ExecutionStatus: 'Keyword',
  StartTime: 'Datetime',
  ExecutionTime: 'Datetime',
  CloseTime: 'Datetime',
  ExecutionDuration: 'Int',
  TaskQueue: 'Keyword',
  HistoryLength: 'Int',
  HistorySizeBytes: 'Int',
  StateTransitionCount: 'Int',
  ParentWorkflowId: 'Keyword',
  ParentRunId: 'Keyword',
  RootWorkflowId: 'Keyword',
  RootRunId: 'Keyword',
} as const satisfies Record<string, SearchAttributeType>;

export type VisibilityColumn = keyof typeof visibilityColumns;

export interface CountResult {
  count: number;
  /** With groupBy: one entry per distinct value tuple (a missing value is null). */
  groups?: { values: (ScalarValue | null)[]; count: number }[];
}
