#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { terminalLineReader } from './io.js';
import { runCli } from './program.js';

// A reader that stops early (`kproxy compile … | head`) closes the pipe: stop quietly, as other tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
  readLine: terminalLineReader(),
});
process.exitCode = exitCode;
