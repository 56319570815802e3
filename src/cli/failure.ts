/**
 * How a command ends on an error it cannot carry on from (invalid config, a port in use, an
 * unreadable database, an unreachable router): one line on stderr and exit status 2. The stack is
 * for bug reports only, so it is printed at LOG_LEVEL debug or trace.
 */
export function exitWithFailure(error: unknown): never {
  console.error(`switchyard: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && /^(debug|trace)$/i.test(process.env.LOG_LEVEL ?? '')) console.error(error.stack);
  process.exit(2);
}
