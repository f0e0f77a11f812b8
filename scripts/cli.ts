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
