// A strict reader of the Prometheus text exposition format (version 0.0.4): what `tandem status`
// reads of a process, and what the end-to-end tests hold every process's /metrics to.
export interface Sample {
  /** The sample's own name: a histogram family `x` has samples x_bucket, x_sum, x_count. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/** Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(v: string, line: number): number {
  const lower = v.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`line ${line}: bad sample value ${JSON.stringify(v)}`);
  return n;
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const at = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m) throw new Error(`line ${line}: bad labels at ${JSON.stringify(text.slice(at))}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (m[3] === '') break;
  }
  return labels;
}

/** Parses the whole text; throws naming the line on anything malformed. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', help: '', samples: [] }));
    return f;
  };
  /** The family a sample belongs to: itself, or the histogram/summary it is a part of. */
  const owner = (sample: string): Family => {
    for (const [suffix, types] of [['_bucket', ['histogram']], ['_sum', ['histogram', 'summary']], ['_count', ['histogram', 'summary']]] as const) {
      const base = sample.slice(0, -suffix.length);
      if (sample.endsWith(suffix) && (types as readonly string[]).includes(families.get(base)?.type ?? '')) return families.get(base)!;
    }
    return family(sample);
  };
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const l = raw.trim();
    if (l === '') return;
    if (l.startsWith('#')) {
      const m = new RegExp(`^#\\s+(HELP|TYPE)\\s+(${NAME})(?:\\s+(.*))?$`).exec(l);
      if (!m) return; // a plain comment
      const f = family(m[2]!);
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3] ?? '')) throw new Error(`line ${line}: unknown type ${JSON.stringify(m[3])}`);
        if (f.samples.length > 0) throw new Error(`line ${line}: TYPE of ${f.name} after its samples`);
        f.type = m[3]!;
      } else f.help = m[3] ?? '';
      return;
    }
    const m = SAMPLE.exec(l);
    if (!m) throw new Error(`line ${line}: not a sample: ${JSON.stringify(raw)}`);
    const f = owner(m[1]!);
    const suffixes = SUFFIXES[f.type];
    if (suffixes && !suffixes.some((s) => f.name + s === m[1])) throw new Error(`line ${line}: ${m[1]} is not a sample of ${f.type} ${f.name}`);
    f.samples.push({ name: m[1]!, labels: m[2] ? parseLabels(m[2], line) : {}, value: parseValue(m[3]!, line) });
  });
  return families;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sumSamples(families: Map<string, Family>, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  }
  return total;
}
