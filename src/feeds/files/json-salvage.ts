/**
 * Best-effort reading of JSON that `JSON.parse` rejected (a download cut short, a damaged byte):
 * keeps the complete top-level members and, for a top-level array or an array member such as
 * TwelveData's `values`, every complete element before the fault. Each kept piece is still
 * checked by `JSON.parse`; this only finds where the pieces start and end.
 */

export type SalvagedJson = unknown[] | Record<string, unknown>;

/** The recoverable part of `text`, or null when it is not a JSON object or array at all. */
export function salvageJson(text: string): SalvagedJson | null {
  const start = skipSpace(text, 0);
  if (text[start] === '[') return salvageArray(text, start).items;
  if (text[start] === '{') return salvageObject(text, start);
  return null;
}

/** `end` is the index after `]`, or -1 when the array stops at a fault. */
function salvageArray(text: string, open: number): { items: unknown[]; end: number } {
  const items: unknown[] = [];
  let at = skipSpace(text, open + 1);
  if (text[at] === ']') return { items, end: at + 1 };
  for (;;) {
    const item = parseValueAt(text, at);
    if (item === null) return { items, end: -1 };
    items.push(item.value);
    at = skipSpace(text, item.end);
    if (text[at] === ']') return { items, end: at + 1 };
    if (text[at] !== ',') return { items, end: -1 };
    at = skipSpace(text, at + 1);
  }
}

function salvageObject(text: string, open: number): Record<string, unknown> {
  const members = Object.create(null) as Record<string, unknown>;
  let at = skipSpace(text, open + 1);
  while (text[at] === '"') {
    const key = parseValueAt(text, at);
    if (key === null || typeof key.value !== 'string') break;
    at = skipSpace(text, key.end);
    if (text[at] !== ':') break;
    at = skipSpace(text, at + 1);
    const end = text[at] === '[' ? salvageArrayMember(text, at, members, key.value) : salvageMember(text, at, members, key.value);
    if (end === -1) break;
    at = skipSpace(text, end);
    if (text[at] !== ',') break;
    at = skipSpace(text, at + 1);
  }
  return members;
}

function salvageArrayMember(text: string, at: number, members: Record<string, unknown>, key: string): number {
  const array = salvageArray(text, at);
  members[key] = array.items;
  return array.end;
}

function salvageMember(text: string, at: number, members: Record<string, unknown>, key: string): number {
  const member = parseValueAt(text, at);
  if (member === null) return -1;
  members[key] = member.value;
  return member.end;
}

function parseValueAt(text: string, at: number): { value: unknown; end: number } | null {
  const end = valueEnd(text, at);
  if (end === -1) return null;
  try {
    return { value: JSON.parse(text.slice(at, end)) as unknown, end };
  } catch {
    return null;
  }
}

/** The index after the JSON value starting at `at`, or -1 when it does not end before the text does. */
function valueEnd(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return stringEnd(text, at);
  if (first === '{' || first === '[') return containerEnd(text, at);
  let end = at;
  while (end < text.length && !',]} \t\r\n'.includes(text[end]!)) end++;
  return end === at || end === text.length ? -1 : end;
}

function containerEnd(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end === -1) return -1;
      i = end - 1;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The index after the closing quote of the string opening at `at` (a quote preceded by an odd run of backslashes is escaped). */
function stringEnd(text: string, at: number): number {
  for (let quote = text.indexOf('"', at + 1); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
  }
  return -1;
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  return i;
}
