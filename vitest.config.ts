import {availableParallelism} from 'node:os'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test time is spent waiting: on CLI child processes, on the emulator's latency, on loopback. Vitest's default
    // (one worker fewer than the CPUs) ran this suite one file at a time on the 2-CPU CI machine.
    maxWorkers: Math.max(3, availableParallelism()),
  },
})
