/**
 * Structured logs (pino): one JSON line per event on stderr, so a supervisor
 * (systemd, a container runtime) collects them; `--log-level` sets the floor.
 * Every module logs through a child of the root logger naming its component.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'mbdir' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
