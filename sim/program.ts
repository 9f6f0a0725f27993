/**
 * What the simulator programs (`ampflow-demo-site`, `ampflow-modbus-sim`) do alike around their
 * own work: read the command line, and run until the user stops them.
 */

/**
 * The options `parse` makes of the command line; undefined when there is nothing to run: after
 * --help (the help is printed) or a usage error (printed with the help, exit code 2).
 */
export function programOptions<T>(
  program: string,
  help: string,
  argv: readonly string[],
  parse: (argv: string[]) => T | 'help',
): Exclude<T, 'help'> | undefined {
  let options: T | 'help';
  try {
    options = parse([...argv]);
  } catch (error) {
    process.stderr.write(`${program}: ${(error as Error).message}\n\n${help}`);
    process.exitCode = 2;
    return undefined;
  }
  if (options === 'help') {
    process.stdout.write(help);
    return undefined;
  }
  return options as Exclude<T, 'help'>;
}

/** Resolves with the first SIGINT (Ctrl-C) or SIGTERM that comes from now on. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
