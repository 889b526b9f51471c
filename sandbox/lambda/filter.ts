/**
 * Lambda event filtering for the sandbox's event source mappings: whether a record matches a filter
 * pattern (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
 *
 * A pattern is an object whose keys name fields of the record. A nested object descends into the
 * field; an array lists what the field's value may be (any one suffices): a string, number, boolean or
 * null to equal, or one of the operators `prefix`, `suffix`, `equals-ignore-case`, `anything-but`,
 * `numeric` and `exists`. A field the pattern names but the record lacks fails the match, except for
 * `{"exists": false}`. An operator the sandbox does not know throws, so a pattern it cannot judge is
 * never silently let through.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function numericMatch(conditions: unknown, value: unknown): boolean {
  if (!Array.isArray(conditions) || conditions.length === 0 || conditions.length % 2 !== 0) throw new Error(`Malformed numeric filter ${JSON.stringify(conditions)}`);
  if (typeof value !== 'number') return false;
  for (let i = 0; i < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1];
    if (typeof bound !== 'number') throw new Error(`Malformed numeric filter ${JSON.stringify(conditions)}`);
    const ok = op === '=' ? value === bound : op === '<' ? value < bound : op === '<=' ? value <= bound : op === '>' ? value > bound : op === '>=' ? value >= bound : undefined;
    if (ok === undefined) throw new Error(`Unknown numeric operator ${JSON.stringify(op)}`);
    if (!ok) return false;
  }
  return true;
}

/** Whether one present value satisfies one matcher of a pattern's array. */
function valueMatches(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) return matcher === value;
  const [operator, ...more] = Object.keys(matcher);
  if (!operator || more.length > 0) throw new Error(`A filter matcher takes one operator, got ${JSON.stringify(matcher)}`);
  const operand = matcher[operator];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && typeof operand === 'string' && value.startsWith(operand);
    case 'suffix':
      return typeof value === 'string' && typeof operand === 'string' && value.endsWith(operand);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'anything-but':
      if (isObject(operand)) return !valueMatches(operand, value);
      return !(Array.isArray(operand) ? operand : [operand]).some((o) => o === value);
    case 'numeric':
      return numericMatch(operand, value);
    case 'exists':
      return operand === true;
    default:
      throw new Error(`The sandbox does not know the filter operator ${JSON.stringify(operator)}`);
  }
}

/** Whether `field` (possibly absent) satisfies a pattern's array of matchers. */
function fieldMatches(matchers: unknown[], present: boolean, field: unknown): boolean {
  if (!present) return matchers.some((m) => isObject(m) && 'exists' in m && m.exists === false);
  // An array field matches when any of its elements does.
  const values = Array.isArray(field) ? field : [field];
  return matchers.some((m) => !(isObject(m) && 'exists' in m && m.exists === false) && values.some((v) => valueMatches(m, v)));
}

/** Whether `record` matches `pattern`. */
export function matchesPattern(pattern: unknown, record: unknown): boolean {
  if (!isObject(pattern)) throw new Error(`A filter pattern is a JSON object, got ${JSON.stringify(pattern)}`);
  const subject = isObject(record) ? record : {};
  for (const [name, rule] of Object.entries(pattern)) {
    const present = Object.prototype.hasOwnProperty.call(subject, name) && subject[name] !== undefined;
    if (Array.isArray(rule)) {
      if (!fieldMatches(rule, present, subject[name])) return false;
    } else if (isObject(rule)) {
      if (!present || !isObject(subject[name]) || !matchesPattern(rule, subject[name])) return false;
    } else {
      throw new Error(`Filter pattern field ${JSON.stringify(name)} must be an array or an object, got ${JSON.stringify(rule)}`);
    }
  }
  return true;
}

/** Whether `record` matches any of the patterns; no patterns let everything through, as in Lambda. */
export function passesFilters(patterns: readonly unknown[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((p) => matchesPattern(p, record));
}
