import { Command, CommanderError } from "commander";

/** Where a command writes: the process's streams, or a test's recorder. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * What every command-line entry point shares: run `main`, exit with its status once stdout is
 * flushed (a pipe takes large outputs in several writes), and report a crash as status 3.
 */
export function runMain(command: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(
        `${command} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
      process.exit(3);
    },
  );
}

/** The exit status of a usage mistake (and of a bad flag that commander finds). */
export const EXIT_USAGE = 2;

/**
 * Parses a command's arguments, with commander's help and errors written through `io` and thrown
 * rather than exiting the process. Undefined when they parse; else the status to exit with: 0 for
 * `--help`, EXIT_USAGE for a mistake commander reports.
 */
export function parseArgs(cli: Command, argv: string[], io: CommandOutput): number | undefined {
  cli.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  try {
    cli.parse(argv, { from: "user" });
    return undefined;
  } catch (e) {
    if (e instanceof CommanderError) return commanderStatus(e);
    throw e;
  }
}

/** The exit status of commander's own error: 0 for `--help` and `--version`, else EXIT_USAGE. */
export function commanderStatus(e: CommanderError): number {
  return e.exitCode === 0 ? 0 : EXIT_USAGE;
}
