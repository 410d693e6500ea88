// Structured logs: one JSON object per line on stderr, so a terminal's log can be shipped
// and queried later. Components receive a Logger; tests pass `silentLogger`.
export type Level = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: Level, msg: string, fields?: LogFields): void;
  /** Whether `level` would be written: lets hot paths skip building fields nobody reads. */
  enabled?(level: Level): boolean;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(minLevel: Level = "info", write: (line: string) => void = (l) => process.stderr.write(l + "\n")): Logger {
  return {
    log(level, msg, fields) {
      if (ORDER[level] < ORDER[minLevel]) return;
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
    },
    enabled: (level) => ORDER[level] >= ORDER[minLevel],
  };
}

export const silentLogger: Logger = { log() {}, enabled: () => false };

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
}
