/** Text for people: lines that fit a terminal. */

/**
 * `first` then `text` word-wrapped to `width` columns, continuation lines indented by `indent`; a
 * word longer than a line (a URL) stands on a line of its own.
 */
export function wrap(first: string, text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = empty ? `${line}${word}` : `${line} ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** The width the plan's and the deploy's text output keeps within. */
export const TEXT_WIDTH = 120;
