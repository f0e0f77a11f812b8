/**
 * The tokenizer of the protobuf text format (https://protobuf.dev/reference/protobuf/textformat-spec/):
 * identifiers, numbers, quoted strings with their escapes decoded, symbols, `#` comments dropped,
 * each token with its line and column.
 */
export type TokenKind = "identifier" | "number" | "string" | "symbol" | "eof";
export interface Token {
  kind: TokenKind;
  text: string;
  /** The decoded value of a string literal. */
  value?: string;
  line: number;
  column: number;
}

export class TextFormatSyntaxError extends Error {
  constructor(
    message: string,
    public readonly token: { line: number; column: number },
  ) {
    super(message);
  }
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "?": "?",
};

/** Splits text-format source into tokens, dropping whitespace and `#` comments. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = () => ({ line, column: i - lineStart + 1 });
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      i++;
      line++;
      lineStart = i;
    } else if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = at();
      let j = i;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j])) j++;
      tokens.push({ kind: "identifier", text: text.slice(i, j), ...start });
      i = j;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      const start = at();
      const m = /^(0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fF]?)/.exec(
        text.slice(i),
      )!;
      const after = text[i + m[0].length] ?? "";
      if (/[A-Za-z0-9_.]/.test(after)) {
        throw new TextFormatSyntaxError(`invalid number ${JSON.stringify(m[0] + after)}`, start);
      }
      tokens.push({ kind: "number", text: m[0], ...start });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      const start = at();
      let j = i + 1;
      let value = "";
      for (;;) {
        const d = text[j];
        if (d === undefined || d === "\n")
          throw new TextFormatSyntaxError(
            "string literal not closed before the end of the line",
            start,
          );
        if (d === c) break;
        if (d === "\\") {
          const e = text[j + 1];
          if (e !== undefined && e in ESCAPES) {
            value += ESCAPES[e];
            j += 2;
          } else if (e !== undefined && /[0-7]/.test(e)) {
            const oct = /^[0-7]{1,3}/.exec(text.slice(j + 1))![0];
            value += String.fromCharCode(parseInt(oct, 8));
            j += 1 + oct.length;
          } else if (e === "x") {
            const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(j + 2))?.[0];
            if (!hex)
              throw new TextFormatSyntaxError("\\x needs hexadecimal digits", {
                ...at(),
                column: j - lineStart + 1,
              });
            value += String.fromCharCode(parseInt(hex, 16));
            j += 2 + hex.length;
          } else {
            throw new TextFormatSyntaxError(`invalid escape \\${e ?? ""} in a string`, {
              line,
              column: j - lineStart + 1,
            });
          }
        } else {
          value += d;
          j++;
        }
      }
      tokens.push({ kind: "string", text: text.slice(i, j + 1), value, ...start });
      i = j + 1;
    } else if ("{}<>[]:,;-/".includes(c)) {
      tokens.push({ kind: "symbol", text: c, ...at() });
      i++;
    } else {
      throw new TextFormatSyntaxError(`unexpected character ${JSON.stringify(c)}`, at());
    }
  }
  tokens.push({ kind: "eof", text: "end of file", line, column: i - lineStart + 1 });
  return tokens;
}
