/**
 * Mocha root hook: when every test has run, the process must be able to exit on its own. If it is
 * still alive a few seconds later, something (a socket, a server, a timer, a child process) was
 * left open: list what keeps it alive and fail, instead of hanging the run.
 */
export const mochaHooks = {
  afterAll(): void {
    setTimeout(() => {
      console.error(
        `\nLeak: the test process did not exit after the last test. Still open: ${process
          .getActiveResourcesInfo()
          .join(', ')}`,
      );
      // mocha sets the exit code in its own 'exit' listener; this one runs after it.
      process.on('exit', () => {
        process.exitCode = 1;
      });
      process.exit(1);
    }, 5000).unref();
  },
};
