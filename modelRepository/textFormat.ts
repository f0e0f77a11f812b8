/**
 * A protobuf text-format parser driven by a protobufjs message type: the format Triton reads
 * `config.pbtxt` in (google::protobuf::TextFormat). A tokenizer, then a recursive-descent parser
 * that checks every field against the schema, so an unknown field, a value of the wrong type, an
 * unknown enum value, a non-repeated field given twice or two members of one oneof are reported
 * with their line, column and field path, as the server would refuse them.
 *
 * The grammar followed is the protobuf text format specification
 * (https://protobuf.dev/reference/protobuf/textformat-spec/): `#` comments, `name: value`, the
 * colon optional before a message value, messages in `{}` or `<>`, `[a, b]` lists for repeated
 * fields, `,` or `;` after a field, adjacent string literals concatenated, integers in decimal, hex
 * and octal, floats with an optional `f` suffix, `inf`/`nan`, booleans `true`/`false`/`t`/`f`/`1`/`0`,
 * enum values by name or number, map fields as repeated `{ key: ... value: ... }` entries.
 * Extensions and `Any` expansions (`[type.googleapis.com/...]`) are refused: ModelConfig has none.
 */
import * as protobuf from "protobufjs";
import { TextFormatSyntaxError, Token, tokenize } from "./textFormatTokens";

export interface TextFormatProblem {
  line: number;
  column: number;
  /** The field's path, e.g. `instance_group[0].kind` (empty for a syntax error between fields). */
  field: string;
  message: string;
}

/** A parsed message: field name to value (arrays for repeated fields, objects for maps). */
export type TextMessage = { [field: string]: unknown };

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

function describe(t: Token): string {
  return t.kind === "eof"
    ? "the end of the file"
    : t.kind === "string"
      ? t.text
      : JSON.stringify(t.text);
}

class Parser {
  private pos = 0;
  readonly problems: TextFormatProblem[] = [];

  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }
  private isSymbol(s: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === "symbol" && t.text === s;
  }
  private expect(s: string, what: string): Token {
    const t = this.next();
    if (t.kind !== "symbol" || t.text !== s)
      throw new TextFormatSyntaxError(`expected ${what} ("${s}"), found ${describe(t)}`, t);
    return t;
  }
  private problem(t: Token, field: string, message: string): void {
    this.problems.push({ line: t.line, column: t.column, field, message });
  }

  /** Fields until `close` (or the end of the file for the top-level message). */
  parseFields(type: protobuf.Type, close: string | undefined, path: string): TextMessage {
    const out: TextMessage = {};
    const oneofSet = new Map<string, string>();
    for (;;) {
      const t = this.peek();
      if (close === undefined ? t.kind === "eof" : this.isSymbol(close)) break;
      if (t.kind === "eof")
        throw new TextFormatSyntaxError(`expected "${close}" before the end of the file`, t);
      if (this.isSymbol("[")) {
        throw new TextFormatSyntaxError(
          `extensions and Any expansions are not part of ${type.fullName.slice(1)}`,
          t,
        );
      }
      if (t.kind !== "identifier")
        throw new TextFormatSyntaxError(`expected a field name, found ${describe(t)}`, t);
      this.next();
      const name = t.text;
      const fieldPath = path ? `${path}.${name}` : name;
      const field = type.fields[name];
      if (!field) {
        this.problem(
          t,
          fieldPath,
          `${type.fullName.slice(1)} has no field named "${name}"${suggest(name, Object.keys(type.fields))}`,
        );
        this.skipValue();
      } else {
        field.resolve();
        const isMessage = field.resolvedType instanceof protobuf.Type || field.map;
        if (this.isSymbol(":")) this.next();
        else if (!isMessage)
          throw new TextFormatSyntaxError(
            `expected ":" after the field name "${name}"`,
            this.peek(),
          );
        if (!field.repeated && !field.map && name in out) {
          this.problem(t, fieldPath, `non-repeated field "${name}" is specified multiple times`);
        }
        if (field.partOf) {
          const other = oneofSet.get(field.partOf.name);
          if (other !== undefined && other !== name) {
            this.problem(
              t,
              fieldPath,
              `"${name}" is specified along with "${other}", another member of oneof "${field.partOf.name}"`,
            );
          }
          oneofSet.set(field.partOf.name, name);
        }
        const values: unknown[] = [];
        if (this.isSymbol("[")) {
          const open = this.next();
          if (!field.repeated && !field.map) {
            this.problem(open, fieldPath, `"${name}" is not repeated: a list is not allowed`);
          }
          if (!this.isSymbol("]")) {
            for (;;) {
              values.push(this.parseValue(field, `${fieldPath}[${values.length}]`));
              if (this.isSymbol(",")) this.next();
              else break;
            }
          }
          this.expect("]", "the end of the list");
        } else {
          const index = Array.isArray(out[name]) ? (out[name] as unknown[]).length : 0;
          values.push(
            this.parseValue(field, field.repeated ? `${fieldPath}[${index}]` : fieldPath),
          );
        }
        store(out, field, values);
      }
      if (this.isSymbol(",") || this.isSymbol(";")) this.next();
    }
    return out;
  }

  private parseValue(field: protobuf.Field, path: string): unknown {
    if (field.map) {
      const map = field as unknown as protobuf.MapField;
      return this.parseMapEntry(map, path);
    }
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) return this.parseMessage(rt, path);
    if (rt instanceof protobuf.Enum) return this.parseEnum(rt, path);
    return this.parseScalar(field.type, path);
  }

  private parseMessage(type: protobuf.Type, path: string): TextMessage {
    const open = this.next();
    const close = open.kind === "symbol" ? { "{": "}", "<": ">" }[open.text] : undefined;
    if (!close)
      throw new TextFormatSyntaxError(
        `expected "{" to open ${path}, found ${describe(open)}`,
        open,
      );
    const value = this.parseFields(type, close, path);
    this.next();
    return value;
  }

  private parseMapEntry(field: protobuf.MapField, path: string): [unknown, unknown] {
    const open = this.next();
    const close = open.kind === "symbol" ? { "{": "}", "<": ">" }[open.text] : undefined;
    if (!close)
      throw new TextFormatSyntaxError(
        `expected "{" to open ${path}, found ${describe(open)}`,
        open,
      );
    let key: unknown = undefined;
    let value: unknown = undefined;
    while (!this.isSymbol(close)) {
      const t = this.next();
      if (t.kind === "eof")
        throw new TextFormatSyntaxError(`expected "${close}" before the end of the file`, t);
      if (t.kind !== "identifier" || (t.text !== "key" && t.text !== "value")) {
        this.problem(t, `${path}.${t.text}`, `a map entry has only "key" and "value"`);
        if (t.kind === "identifier") this.skipValue();
        continue;
      }
      if (t.text === "key") {
        this.expect(":", `":" after key`);
        key = this.parseScalar(field.keyType, `${path}.key`);
      } else {
        const rt = field.resolvedType;
        if (this.isSymbol(":")) this.next();
        else if (!(rt instanceof protobuf.Type))
          throw new TextFormatSyntaxError(`expected ":" after value`, this.peek());
        value =
          rt instanceof protobuf.Type
            ? this.parseMessage(rt, `${path}.value`)
            : rt instanceof protobuf.Enum
              ? this.parseEnum(rt, `${path}.value`)
              : this.parseScalar(field.type, `${path}.value`);
      }
      if (this.isSymbol(",") || this.isSymbol(";")) this.next();
    }
    this.next();
    return [key, value];
  }

  private parseEnum(type: protobuf.Enum, path: string): string | number {
    const t = this.next();
    if (t.kind === "identifier") {
      if (!(t.text in type.values))
        this.problem(
          t,
          path,
          `unknown value ${t.text} for enum ${type.fullName.slice(1)}; allowed: ${Object.keys(type.values).join(", ")}`,
        );
      return t.text;
    }
    const negative = t.kind === "symbol" && t.text === "-";
    const num = negative ? this.next() : t;
    if (num.kind === "number" && /^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(num.text)) {
      const n = Number(num.text) * (negative ? -1 : 1);
      const name = type.valuesById[n];
      if (name === undefined)
        this.problem(num, path, `unknown value ${n} for enum ${type.fullName.slice(1)}`);
      return name ?? n;
    }
    this.problem(
      t,
      path,
      `expected a value of enum ${type.fullName.slice(1)}, found ${describe(t)}`,
    );
    return "";
  }

  private parseScalar(type: string, path: string): unknown {
    const t = this.next();
    if (type === "string" || type === "bytes") {
      if (t.kind !== "string") {
        this.problem(t, path, `expected a string (in quotes), found ${describe(t)}`);
        return "";
      }
      let value = t.value!;
      while (this.peek().kind === "string") value += this.next().value!;
      return value;
    }
    if (type === "bool") {
      const truthy = ["true", "True", "t", "1"];
      const falsy = ["false", "False", "f", "0"];
      if ((t.kind === "identifier" || t.kind === "number") && truthy.includes(t.text)) return true;
      if ((t.kind === "identifier" || t.kind === "number") && falsy.includes(t.text)) return false;
      this.problem(t, path, `expected true or false, found ${describe(t)}`);
      return false;
    }
    const negative = t.kind === "symbol" && t.text === "-";
    const num = negative ? this.next() : t;
    if (type === "float" || type === "double") {
      if (num.kind === "identifier" && /^(inf|infinity|nan)$/i.test(num.text)) {
        return /nan/i.test(num.text) ? NaN : negative ? -Infinity : Infinity;
      }
      if (num.kind === "number" && !/^0[xX]/.test(num.text)) {
        return Number(num.text.replace(/[fF]$/, "")) * (negative ? -1 : 1);
      }
      this.problem(num, path, `expected a number, found ${describe(num)}`);
      return 0;
    }
    const range = INT_RANGES[type];
    if (num.kind !== "number" || !/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(num.text)) {
      this.problem(num, path, `expected an integer (${type}), found ${describe(num)}`);
      return 0;
    }
    const digits = /^0[0-7]+$/.test(num.text) ? BigInt(`0o${num.text.slice(1)}`) : BigInt(num.text);
    const value = negative ? -digits : digits;
    if (range && (value < range[0] || value > range[1])) {
      this.problem(t, path, `${negative ? "-" : ""}${num.text} is out of range for ${type}`);
      return 0;
    }
    return Number(value);
  }

  /** Skips the value of an unknown field (scalar, list or message). */
  private skipValue(): void {
    if (this.isSymbol(":")) this.next();
    if (this.isSymbol("[")) {
      this.next();
      while (!this.isSymbol("]")) {
        if (this.peek().kind === "eof")
          throw new TextFormatSyntaxError('expected "]"', this.peek());
        this.skipOne();
        if (this.isSymbol(",")) this.next();
      }
      this.next();
    } else {
      this.skipOne();
    }
  }

  private skipOne(): void {
    const t = this.next();
    if (t.kind === "symbol" && (t.text === "{" || t.text === "<")) {
      const close = t.text === "{" ? "}" : ">";
      let depth = 1;
      while (depth > 0) {
        const u = this.next();
        if (u.kind === "eof")
          throw new TextFormatSyntaxError(`expected "${close}" before the end of the file`, u);
        if (u.kind === "symbol" && (u.text === "{" || u.text === "<")) depth++;
        if (u.kind === "symbol" && (u.text === "}" || u.text === ">")) depth--;
      }
    } else if (t.kind === "symbol" && t.text === "-") {
      this.next();
    } else if (t.kind === "string") {
      while (this.peek().kind === "string") this.next();
    } else if (t.kind === "eof" || t.kind === "symbol") {
      throw new TextFormatSyntaxError(`expected a value, found ${describe(t)}`, t);
    }
  }
}

function store(out: TextMessage, field: protobuf.Field, values: unknown[]): void {
  if (field.map) {
    const map = (out[field.name] as Record<string, unknown> | undefined) ?? {};
    for (const [k, v] of values as [unknown, unknown][]) map[String(k)] = v;
    out[field.name] = map;
  } else if (field.repeated) {
    out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), ...values];
  } else {
    out[field.name] = values[values.length - 1];
  }
}

/** ` (did you mean "x"?)` for a close field name. */
function suggest(name: string, known: string[]): string {
  const close = known.find((k) => editDistance(k, name) <= 2);
  return close ? ` (did you mean "${close}"?)` : "";
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return d[a.length][b.length];
}

/**
 * Parses text-format `text` as a `type` message. A syntax error stops the parse (as it does the
 * server's) and is the last problem; schema problems are collected and parsing goes on.
 */
export function parseTextFormat(
  text: string,
  type: protobuf.Type,
): { message: TextMessage; problems: TextFormatProblem[] } {
  let parser: Parser | undefined;
  try {
    parser = new Parser(tokenize(text));
    const message = parser.parseFields(type, undefined, "");
    return { message, problems: parser.problems };
  } catch (e) {
    if (e instanceof TextFormatSyntaxError) {
      return {
        message: {},
        problems: [
          ...(parser?.problems ?? []),
          {
            line: e.token.line,
            column: e.token.column,
            field: "",
            message: `syntax error: ${e.message}`,
          },
        ],
      };
    }
    throw e;
  }
}
